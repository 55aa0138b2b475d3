// Shared by the page benchmarks (e2e/bench/*.mjs): command-line options,
// a fresh Chromium over the static server, and key=value output lines.
// These are benchmarks, not tests: `cargo xtask bench` runs them, never
// `cargo xtask test` (node --test only looks in e2e/tests/).
import { serveDist, launchBrowser, CHROMIUM_ARGS } from '../lib/index.mjs';

/** `--name value` options with defaults: opts(['runs', 3]) */
export function options(defaults) {
  const out = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || !(m[1] in defaults)) throw new Error(`unknown option ${argv[i]}`);
    const v = m[2] ?? argv[++i];
    out[m[1]] = typeof defaults[m[1]] === 'number' ? Number(v) : v;
  }
  return out;
}

/** Prints one `impl=raftlab mode=... k=v ...` line. */
export function report(fields) {
  const parts = Object.entries({ impl: 'raftlab', ...fields }).map(([k, v]) => `${k}=${v}`);
  console.log(parts.join(' '));
}

/** The static server and a browser; `close()` stops both. */
export async function start() {
  const server = await serveDist();
  // Precise (unquantised) performance.memory figures.
  const browser = await launchBrowser({ args: [...CHROMIUM_ARGS, '--enable-precise-memory-info'] });
  return {
    server,
    browser,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
}

/** Waits for the bench page's result element and returns its data-* attributes. */
export async function benchResult(page, timeout = 600_000) {
  const el = await page.waitForSelector('[data-testid="bench-result"]', { timeout });
  return el.evaluate((e) => ({ ...e.dataset }));
}
