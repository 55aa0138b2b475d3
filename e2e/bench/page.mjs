// Item 4 of issue 7: the page itself, against the release build in dist/.
// Prints key=value lines:
//   mode=size file=wasm|js|total|worker|sharded gzip_kb=... raw_kb=...   (the page's load; apart, the
//        modules fetched on demand: worker, the experiment worker; sharded, sharded mode's module)
//   mode=first_render view=single|sharded ms=...   navigation start → the first cluster in the DOM:
//        single, [data-testid=node-1]; sharded (?mode=sharded), its first group's ring
//        [data-testid=group-g1], once the page's module has fetched and started sharded mode's module
//   mode=frames median_ms=... p95_ms=... on_time_pct=... in_flight_median=...   10 s of rAF deltas, 9 nodes, slow links
//   mode=frame_work frames=... script_ms=... style_ms=... layout_ms=... paint_ms=... raster_ms=... main_p95_ms=... main_cpu_p95_ms=...
//        the same page under a Chromium trace: main-thread time per frame by
//        kind (self time of the DevTools timeline events), raster on the
//        raster threads, and the 95th percentile of one frame's main-thread
//        work; steadier than wall-clock frame times on a loaded machine;
//        main_cpu_*: the same work in CPU time (the trace's thread time),
//        which other processes on a busy machine inflate far less
//   mode=page_memory history=H sim_secs=... js_heap_mb=... wasm_mb=... total_mb=...
//   mode=app_memory sim_secs=... history_seq=... js_heap_mb=... wasm_mb=... total_mb=...
//        the app itself (its default history limit, every panel drawn), run
//        an hour a simulated second at a time with its "+1 s" button
//   mode=frame_heavy rank=... main_ms=... script_ms=... ... changed=panel:mutations,...
//        with --attribute N: frame_work's N costliest frames, what kind of work
//        and which parts of the page the DOM changed in (a MutationObserver
//        summarised into a performance mark at each animation frame)
//   mode=frame_kind changed=... frames=... main_median_ms=... main_p95_ms=... script=... style=... layout=... paint=...
//        with --attribute: the frames grouped by the panels they changed
//        (beyond the ring, timeline and clock every playing frame moves)
// Usage: node e2e/bench/page.mjs [--names 12 (frame_work: also its costliest event names)] [--attribute 8] [--runs 3] [--hour 3600] [--history 100000] [--latency 800] [--seconds 10]
//        [--only size,first_render,frames,frame_work,page_memory,app_memory]   (default: all of them)
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { DIST_DIR } from '../lib/index.mjs';
import { options, report, start, median, percentile, benchResult } from './common.mjs';

const opts = options({ runs: 3, hour: 3600, history: 100000, latency: 800, seconds: 10, only: '', names: 0, attribute: 0 });
const want = (mode) => !opts.only || opts.only.split(',').includes(mode);
const kb = (n) => (n / 1024).toFixed(1);
const mb = (n) => (n / 1e6).toFixed(1);

// Sizes: what a browser downloads, gzipped at level 9. The modules the page
// fetches on demand are reported on their own, not in the page's total: the
// experiment worker (experiment-worker*, file=worker) when an experiment
// starts, sharded mode's module (sharded-app*, file=sharded) for
// ?mode=sharded.
if (want('size')) {
  const all = await fs.readdir(DIST_DIR);
  const onDemand = [
    ['worker', 'experiment-worker'],
    ['sharded', 'sharded-app'],
  ];
  const isCode = (f) => /\.(wasm|js)$/.test(f);
  const module = (f) => onDemand.find(([, prefix]) => f.startsWith(prefix))?.[0];
  const files = all.filter((f) => !module(f));
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
  for (const [name] of onDemand) {
    const mine = all.filter((f) => isCode(f) && module(f) === name);
    if (mine.length === 0) continue; // a build from before it was split off
    const { gz, raw } = await gzipped(mine);
    report({ mode: 'size', file: name, gzip_kb: kb(gz), raw_kb: kb(raw) });
  }
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

// For frame_work --attribute: at each animation frame (after the page's
// own callback and render), a performance mark "frame-dom part:n,..."
// naming the parts of the page whose DOM changed since the last one (n
// mutation records), a part being the panel (a child of a layout column or
// row) the change fell in.
const ATTRIBUTE = () => {
  const counts = new Map();
  const partOf = (node) => {
    let el = node.nodeType === 1 ? node : node.parentElement;
    let last = el;
    while (el && el.parentElement) {
      const p = el.parentElement;
      if (p.classList.contains('col') || p.classList.contains('layout') || p.tagName === 'HEADER') {
        return (el.getAttribute('aria-label') || el.className || el.tagName).toString().split(' ')[0];
      }
      last = el;
      el = p;
    }
    return last ? last.tagName : '?';
  };
  new MutationObserver((records) => {
    for (const r of records) {
      const k = partOf(r.target);
      counts.set(k, (counts.get(k) || 0) + 1);
    }
  }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  const tick = () => {
    const text = [...counts].map(([k, n]) => `${k}:${n}`).join(',');
    counts.clear();
    performance.mark(`frame-dom ${text}`);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
};

const app = await start();
try {
  // Navigation start → the view's first cluster in the DOM, per view: the
  // single-group page, and sharded mode, which loads a module of its own
  // first (its script and wasm, fetched by the page's module).
  const FIRST_CLUSTER = [
    ['single', '', '[data-testid="node-1"]'],
    ['sharded', '?mode=sharded', '[data-testid="group-g1"]'],
  ];
  const FIRST_RENDER = (selector) => {
    window.__firstRender = null;
    new MutationObserver((_, obs) => {
      if (window.__firstRender === null && document.querySelector(selector)) {
        window.__firstRender = performance.now();
        obs.disconnect();
      }
    }).observe(document, { subtree: true, childList: true });
  };
  for (let i = 0; i < (want('first_render') ? opts.runs : 0); i++) {
    for (const [view, query, selector] of FIRST_CLUSTER) {
      const page = await app.browser.newPage();
      await page.addInitScript(FIRST_RENDER, selector);
      await page.goto(app.server.url + query);
      await page.waitForFunction(() => window.__firstRender !== null, null, { timeout: 30_000 });
      const ms = await page.evaluate(() => window.__firstRender);
      report({ mode: 'first_render', view, ms: ms.toFixed(0) });
      await page.close();
    }
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
      // On time: the next display frame (at 60 Hz 16.7 ms; a delta up to
      // 1.5 frames allows for timer jitter), not a missed one.
      on_time_pct: ((100 * r.deltas.filter((d) => d <= 25).length) / Math.max(r.deltas.length, 1)).toFixed(1),
      in_flight_median: median(r.inflight),
      in_flight_max: Math.max(...r.inflight),
    });
    await page.close();
  }

  for (let i = 0; i < (want('frame_work') ? opts.runs : 0); i++) {
    const page = await app.browser.newPage();
    await page.goto(`${app.server.url}?nodes=9&latency=${opts.latency}&speed=1`);
    await page.waitForSelector('[data-testid="node-9"]');
    await page.waitForTimeout(4000); // let the wires fill up
    if (opts.attribute) await page.evaluate(ATTRIBUTE);
    const events = await traceFor(page, opts.seconds);
    report({ mode: 'frame_work', nodes: 9, ...frameWork(events) });
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

/** The trace events of `secs` seconds of the page (DevTools timeline categories). */
async function traceFor(page, secs) {
  const cdp = await page.context().newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
  const done = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
  await cdp.send('Tracing.start', {
    transferMode: 'ReportEvents',
    traceConfig: {
      includedCategories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing', '__metadata'],
    },
  });
  await page.waitForTimeout(secs * 1000);
  await cdp.send('Tracing.end');
  await done;
  await cdp.detach();
  return events;
}

/** What kind of work a DevTools timeline event is, or null for none counted. */
function kindOf(name) {
  if (/^(FunctionCall|FireAnimationFrame|EvaluateScript|v8\.|V8\.|EventDispatch|TimerFire|RunMicrotasks|MajorGC|MinorGC|GCEvent|BlinkGC)/.test(name)) return 'script';
  if (/^(UpdateLayoutTree|RecalculateStyles|ParseAuthorStyleSheet|ScheduleStyleRecalculation)$/.test(name)) return 'style';
  if (/^(Layout|LayoutShift|IntersectionObserverController)/.test(name)) return 'layout';
  if (/^(Paint|PrePaint|PaintImage|Layerize|UpdateLayer|UpdateLayerTree|CompositeLayers|Commit|PaintSetup|Decode)/.test(name)) return 'paint';
  return null;
}

/**
 * Per frame: main-thread self time of each kind of work, raster time (any
 * thread), and the 95th percentile of a frame's main-thread work (the work
 * between two animation frame callbacks).
 */
function frameWork(events) {
  const threadNames = new Map();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') threadNames.set(`${e.pid}:${e.tid}`, e.args.name);
  const main = events.filter((e) => e.ph === 'X' && threadNames.get(`${e.pid}:${e.tid}`) === 'CrRendererMain');
  // The page's renderer: the one running the animation frames.
  const frames = main.filter((e) => e.name === 'FireAnimationFrame');
  const pid = frames.length ? frames[0].pid : null;
  const mine = main.filter((e) => e.pid === pid).sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  // Self times: each event minus its (nested) children; also in CPU time
  // (`tdur`: the thread's time on a core, which a busy machine does not
  // inflate by descheduling the renderer, as it does wall time).
  const self = mine.map((e) => ({ e, self: e.dur ?? 0, cpu: e.tdur ?? e.dur ?? 0 }));
  const stack = [];
  for (const s of self) {
    while (stack.length && stack[stack.length - 1].e.ts + stack[stack.length - 1].e.dur <= s.e.ts) stack.pop();
    if (stack.length) {
      stack[stack.length - 1].self -= s.e.dur ?? 0;
      stack[stack.length - 1].cpu -= s.e.tdur ?? s.e.dur ?? 0;
    }
    stack.push(s);
  }
  const totals = { script: 0, style: 0, layout: 0, paint: 0 };
  // A frame's callbacks run back to back (the page's, and --attribute's
  // own): one frame starts where the last callback of the previous one
  // ended more than a millisecond earlier.
  const starts = [];
  let lastEnd = -Infinity;
  for (const e of [...frames].sort((a, b) => a.ts - b.ts)) {
    if (e.ts > lastEnd + 1000) starts.push(e.ts);
    lastEnd = Math.max(lastEnd, e.ts + (e.dur ?? 0));
  }
  const perFrame = new Array(Math.max(starts.length - 1, 0)).fill(0);
  const perFrameCpu = perFrame.map(() => 0);
  const kinds = perFrame.map(() => ({ script: 0, style: 0, layout: 0, paint: 0 }));
  // Which frame interval a time falls in (binary search), or -1.
  const frameAt = (ts) => {
    let lo = 0;
    let hi = starts.length - 1;
    if (ts < starts[0] || ts >= starts[hi]) return -1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= ts) lo = mid;
      else hi = mid;
    }
    return lo;
  };
  for (const { e, self: t, cpu } of self) {
    const k = kindOf(e.name);
    if (!k) continue;
    totals[k] += t;
    const i = frameAt(e.ts);
    if (i < 0) continue;
    perFrame[i] += t;
    perFrameCpu[i] += Math.max(cpu, 0);
    kinds[i][k] += t;
  }
  if (opts.attribute) {
    // The mark's callback runs after the page's (registered later), whose
    // render and mutation records come before it: it describes its frame.
    const changed = new Map();
    for (const e of events) {
      if (!e.name || !e.name.startsWith('frame-dom ')) continue;
      const i = frameAt(e.ts);
      if (i >= 0) changed.set(i, e.name.slice('frame-dom '.length));
    }
    const order = perFrame.map((t, i) => i).sort((a, b) => perFrame[b] - perFrame[a]);
    const fmt = (us) => (us / 1000).toFixed(1);
    for (const [rank, i] of order.slice(0, opts.attribute).entries()) {
      const k = kinds[i];
      report({ mode: 'frame_heavy', rank, frame: i, main_ms: fmt(perFrame[i]), script_ms: fmt(k.script), style_ms: fmt(k.style), layout_ms: fmt(k.layout), paint_ms: fmt(k.paint), changed: changed.get(i) || '-' });
    }
    // Frames grouped by the panels they changed (beyond the parts every
    // playing frame changes: the ring, the timeline, the clock).
    const every = new Set(['BODY', 'timeline', 'clock', 'cluster-box', '-', '']);
    const byKind = new Map();
    perFrame.forEach((t, i) => {
      const parts = (changed.get(i) || '-').split(',').map((p) => p.split(':')[0]).filter((p) => !every.has(p));
      const key = parts.sort().join('+') || 'ring only';
      if (!byKind.has(key)) byKind.set(key, []);
      byKind.get(key).push(i);
    });
    for (const [kind, is] of [...byKind].sort((a, b) => b[1].length - a[1].length)) {
      const of = (f) => median(is.map(f)).toFixed(1);
      report({
        mode: 'frame_kind', changed: kind, frames: is.length,
        main_median_ms: of((i) => perFrame[i] / 1000), main_p95_ms: (percentile(is.map((i) => perFrame[i]), 95) / 1000).toFixed(1),
        script: of((i) => kinds[i].script / 1000), style: of((i) => kinds[i].style / 1000), layout: of((i) => kinds[i].layout / 1000), paint: of((i) => kinds[i].paint / 1000),
      });
    }
    const mid = order[Math.floor(order.length / 2)];
    if (mid !== undefined) report({ mode: 'frame_heavy', rank: 'median', frame: mid, main_ms: fmt(perFrame[mid]), changed: changed.get(mid) || '-' });
  }
  if (opts.names) {
    const byName = new Map();
    for (const { e, self: t } of self) byName.set(e.name, (byName.get(e.name) ?? 0) + t);
    const top = [...byName].sort((a, b) => b[1] - a[1]).slice(0, opts.names);
    for (const [name, t] of top) report({ mode: 'frame_work_event', name, kind: kindOf(name) ?? 'other', ms: (t / 1000 / Math.max(starts.length, 1)).toFixed(2) });
  }
  const raster = events
    .filter((e) => e.ph === 'X' && e.pid === pid && e.name === 'RasterTask')
    .reduce((a, e) => a + (e.dur ?? 0), 0);
  const n = Math.max(starts.length, 1);
  const ms = (us) => (us / 1000 / n).toFixed(2);
  return {
    frames: starts.length,
    script_ms: ms(totals.script),
    style_ms: ms(totals.style),
    layout_ms: ms(totals.layout),
    paint_ms: ms(totals.paint),
    raster_ms: ms(raster),
    main_median_ms: (median(perFrame) / 1000).toFixed(2),
    main_p95_ms: (percentile(perFrame, 95) / 1000).toFixed(2),
    main_cpu_median_ms: (median(perFrameCpu) / 1000).toFixed(2),
    main_cpu_p95_ms: (percentile(perFrameCpu, 95) / 1000).toFixed(2),
  };
}
