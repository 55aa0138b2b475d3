// Item 3 of issue 7 in the browser: the simulator under chaos with client
// load, in the page's wasm (`?bench=sim`, web/src/bench.rs), the same
// workload as `bench_sim speed` natively, timed after --warmup untimed runs
// of it in the same page (default 1, as natively: V8 optimises a freshly
// loaded module's functions only once they are hot, so a short cold run
// times its compilers). Prints one line per run:
//   impl=raftlab mode=sim target=wasm nodes=5 sim_secs=60 warmup=1 wall_secs=... sim_secs_per_sec=... events=...
// Usage: node e2e/bench/sim-speed.mjs [--secs 60] [--runs 3] [--warmup 1]
import { options, report, start, benchResult } from './common.mjs';

const opts = options({ secs: 60, runs: 3, warmup: 1 });
const app = await start();
try {
  for (let i = 0; i < opts.runs; i++) {
    const page = await app.browser.newPage();
    await page.goto(`${app.server.url}?bench=sim&secs=${opts.secs}&warmup=${opts.warmup}`);
    const r = await benchResult(page);
    const wall = Number(r.wallMs) / 1000;
    report({
      mode: 'sim',
      target: 'wasm',
      nodes: 5,
      sim_secs: r.simSecs,
      warmup: r.warmup,
      wall_secs: wall.toFixed(3),
      sim_secs_per_sec: (Number(r.simSecs) / wall).toFixed(1),
      events: r.events,
      steps: r.steps,
      warmup_secs: (Number(r.warmupMs) / 1000).toFixed(3),
    });
    await page.close();
  }
} finally {
  await app.close();
}
