// Item 4 of issue 7: the page itself, against the release build in dist/.
// Prints key=value lines:
//   mode=size file=wasm|js|total|worker gzip_kb=... raw_kb=...   (worker: the experiment worker, apart)
//   mode=first_render ms=...            navigation start → [data-testid=node-1] in the DOM
//   mode=frames median_ms=... p95_ms=... in_flight_median=...   10 s of rAF deltas, 9 nodes, slow links
//   mode=page_memory history=H sim_secs=... js_heap_mb=... wasm_mb=... total_mb=...
//   mode=app_memory sim_secs=... history_seq=... js_heap_mb=... wasm_mb=... total_mb=...
//        the app itself (its default history limit, every panel drawn), run
//        an hour a simulated second at a time with its "+1 s" button
// Usage: node e2e/bench/page.mjs [--runs 3] [--hour 3600] [--history 100000] [--latency 800] [--seconds 10]
//        [--only size,first_render,frames,page_memory,app_memory]   (default: all of them)
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { DIST_DIR } from '../lib/index.mjs';
import { options, report, start, median, percentile, benchResult } from './common.mjs';

const opts = options({ runs: 3, hour: 3600, history: 100000, latency: 800, seconds: 10, only: '' });
const want = (mode) => !opts.only || opts.only.split(',').includes(mode);
const kb = (n) => (n / 1024).toFixed(1);
const mb = (n) => (n / 1e6).toFixed(1);

// Sizes: what a browser downloads, gzipped at level 9. The experiment
// worker (experiment-worker*) is fetched only when an experiment starts, so
// it is reported on its own (file=worker), not in the page's total.
if (want('size')) {
  const all = await fs.readdir(DIST_DIR);
  const isWorker = (f) => f.startsWith('experiment-worker');
  const files = all.filter((f) => !isWorker(f));
  const gzipped = async (names) => {
    let gz = 0;
    let raw = 0;
    for (const f of names) {
      const body = await fs.readFile(path.join(DIST_DIR, f));
      raw += body.length;
      gz += zlib.gzipSync(body, { level: 9 }).length;
    }
    return { gz, raw };
  };
  let total = 0;
  let totalRaw = 0;
  for (const [kind, ext] of [['wasm', '.wasm'], ['js', '.js']]) {
    const { gz, raw } = await gzipped(files.filter((f) => f.endsWith(ext)));
    total += gz;
    totalRaw += raw;
    report({ mode: 'size', file: kind, gzip_kb: kb(gz), raw_kb: kb(raw) });
  }
  report({ mode: 'size', file: 'total', gzip_kb: kb(total), raw_kb: kb(totalRaw) });
  const worker = await gzipped(all.filter((f) => isWorker(f) && /\.(wasm|js)$/.test(f)));
  report({ mode: 'size', file: 'worker', gzip_kb: kb(worker.gz), raw_kb: kb(worker.raw) });
}

// Records when node 1 first appears, and the wasm instance (for its memory).
const INIT = () => {
  window.__firstRender = null;
  addEventListener('TrunkApplicationStarted', (e) => {
    window.__wasm = e.detail && e.detail.wasm;
  });
  const seen = () => {
    if (window.__firstRender === null && document.querySelector('[data-testid="node-1"]')) {
      window.__firstRender = performance.now();
      return true;
    }
    return false;
  };
  new MutationObserver((_, obs) => {
    if (seen()) obs.disconnect();
  }).observe(document, { subtree: true, childList: true });
};

const app = await start();
try {
  for (let i = 0; i < (want('first_render') ? opts.runs : 0); i++) {
    const page = await app.browser.newPage();
    await page.addInitScript(INIT);
    await page.goto(app.server.url);
    await page.waitForFunction(() => window.__firstRender !== null, null, { timeout: 30_000 });
    const ms = await page.evaluate(() => window.__firstRender);
    report({ mode: 'first_render', ms: ms.toFixed(0) });
    await page.close();
  }

  for (let i = 0; i < (want('frames') ? opts.runs : 0); i++) {
    const page = await app.browser.newPage();
    await page.goto(`${app.server.url}?nodes=9&latency=${opts.latency}&speed=1`);
    await page.waitForSelector('[data-testid="node-9"]');
    await page.waitForTimeout(4000); // let the wires fill up
    const r = await page.evaluate(
      (secs) =>
        new Promise((resolve) => {
          const deltas = [];
          const inflight = [];
          let last = performance.now();
          const end = last + secs * 1000;
          const sample = setInterval(
            () => inflight.push(document.querySelectorAll('[data-testid="msg"]').length),
            250,
          );
          const frame = (t) => {
            deltas.push(t - last);
            last = t;
            if (t < end) requestAnimationFrame(frame);
            else {
              clearInterval(sample);
              resolve({ deltas, inflight });
            }
          };
          requestAnimationFrame(frame);
        }),
      opts.seconds,
    );
    report({
      mode: 'frames',
      nodes: 9,
      frames: r.deltas.length,
      median_ms: median(r.deltas).toFixed(1),
      p95_ms: percentile(r.deltas, 95).toFixed(1),
      in_flight_median: median(r.inflight),
      in_flight_max: Math.max(...r.inflight),
    });
    await page.close();
  }

  for (const history of want('page_memory') ? [0, opts.history] : []) {
    const page = await app.browser.newPage();
    await page.addInitScript(INIT);
    await page.goto(`${app.server.url}?bench=memory&secs=${opts.hour}&history=${history}`);
    const r = await benchResult(page);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const m = await page.evaluate(() => ({
      heap: performance.memory ? performance.memory.usedJSHeapSize : 0,
      wasm: window.__wasm ? window.__wasm.memory.buffer.byteLength : 0,
    }));
    report({
      mode: 'page_memory',
      history,
      sim_secs: r.simSecs,
      events: r.events,
      kept_events: r.keptEvents,
      js_heap_mb: mb(m.heap),
      wasm_mb: mb(m.wasm),
      total_mb: mb(m.heap + m.wasm),
    });
    await page.close();
  }

  if (want('app_memory')) {
    const page = await app.browser.newPage();
    await page.addInitScript(INIT);
    await page.goto(`${app.server.url}?paused=1`);
    await page.waitForSelector('[data-testid="forward-1000"]');
    // A simulated second per click, each followed by a rendered frame.
    await page.evaluate(async (secs) => {
      const button = document.querySelector('[data-testid="forward-1000"]');
      for (let i = 0; i < secs; i++) {
        button.click();
        await new Promise((r) => requestAnimationFrame(r));
      }
    }, opts.hour);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const m = await page.evaluate(() => ({
      heap: performance.memory ? performance.memory.usedJSHeapSize : 0,
      wasm: window.__wasm ? window.__wasm.memory.buffer.byteLength : 0,
      status: { ...document.querySelector('[data-testid="status"]').dataset },
    }));
    report({
      mode: 'app_memory',
      sim_secs: Math.round(Number(m.status.now) / 1000),
      events: m.status.position,
      history_seq: m.status.historySeq,
      js_heap_mb: mb(m.heap),
      wasm_mb: mb(m.wasm),
      total_mb: mb(m.heap + m.wasm),
    });
    await page.close();
  }
} finally {
  await app.close();
}
