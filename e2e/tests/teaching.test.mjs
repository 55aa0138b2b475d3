// Break-it mode, breakpoints, the space-time diagram linked with the other
// views, and experiments in a Web Worker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { startApp, REPO_ROOT } from '../lib/index.mjs';
import { lessonState, playLesson, status } from './raftlab-page.mjs';
import { moduleFiles } from './modules.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

test('break-it with the Figure 8 bug reaches a violation and explains it', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?paused=1' });
  await page.click('[data-testid="breakit"]');
  await page.waitForSelector('[data-testid="breakit-panel"]');
  await page.check('[data-testid="breakit-bug-figure8"]');
  await page.waitForSelector('[data-testid="breakit-lesson"]');
  await page.click('[data-testid="breakit-lesson"]');
  await page.waitForSelector('[data-testid="lesson"][data-lesson="figure8-broken"]');
  assert.equal(await page.locator('[data-testid="breakit-panel"]').getAttribute('data-active'), 'figure8');
  // Play the lesson until the checker objects.
  await playLesson(page, { answer: () => 0, max: 400 }).catch(() => {});
  const explain = page.locator('[data-testid="violation-explain"]');
  await explain.waitFor();
  assert.equal(await page.locator('[data-testid="safety"]').getAttribute('data-status'), 'violated');
  const rule = await explain.getAttribute('data-rule');
  assert.ok(rule.length > 0);
  const related = page.locator('[data-testid^="related-"]');
  assert.ok((await related.count()) >= 2, 'the events that led there are listed');
  // Clicking one goes there.
  const first = related.first();
  const seq = Number((await first.getAttribute('data-testid')).slice('related-'.length));
  await first.click();
  const s = await status(page);
  assert.ok(Number(s.position) >= seq, `at event #${seq}`);
  await page.locator('[data-testid="breakit-panel"]').scrollIntoViewIfNeeded();
  await screenshot('breakit-figure8');
  assertNoProblems();
  await page.close();
});

test('break-it hunts random faults until the checker catches the bug', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?paused=1' });
  await page.click('[data-testid="breakit"]');
  await page.check('[data-testid="breakit-bug-prevote-raises-term"]');
  await page.click('[data-testid="breakit-hunt"]');
  await page.waitForSelector('[data-testid="violation-explain"]', { timeout: 90_000 });
  assert.equal(await page.locator('[data-testid="source"]').getAttribute('data-kind'), 'break-it run');
  assert.equal(await page.locator('[data-testid="violation-explain"]').getAttribute('data-rule'), 'prevote_term_unchanged');
  assertNoProblems();
  await page.close();
});

test('break-it under no-up-to-date-check never claims that the log check passed', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?paused=1' });
  await page.click('[data-testid="breakit"]');
  await page.check('[data-testid="breakit-bug-no-up-to-date-check"]');
  await page.click('[data-testid="breakit-hunt"]');
  const explain = page.locator('[data-testid="violation-explain"]');
  await explain.waitFor({ timeout: 90_000 });
  assert.equal(await explain.getAttribute('data-rule'), 'vote_up_to_date');
  const text = await explain.textContent();
  // The checker's verdict: the voter's log was ahead of the candidate's.
  assert.match(text, /behind its own/);
  // The feed lines quoted under it tell the grant as it was made: no
  // comparison, and the bug named; never "at least as up to date".
  assert.match(text, /granted without comparing logs \(deliberate bug no-up-to-date-check is on\)/);
  assert.doesNotMatch(text, /its log is at least as up to date as S\d+'s/);
  await explain.scrollIntoViewIfNeeded();
  await screenshot('breakit-no-up-to-date-check');
  assertNoProblems();
  await page.close();
});

test('a breakpoint pauses at the moment a node becomes leader', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=7&paused=1&speed=1' });
  await page.selectOption('[data-testid="breakpoint-kind"]', 'leader');
  await page.click('[data-testid="breakpoint-add"]');
  await page.waitForSelector('[data-testid="breakpoints"][data-count="1"]');
  await page.click('[data-testid="play"]');
  await page.waitForSelector('[data-testid="status"][data-playing="false"]', { timeout: 30_000 });
  assert.match(await page.locator('[data-testid="notice"]').textContent(), /Breakpoint: a node becomes leader/);
  const s = await status(page);
  assert.notEqual(s.leader, '', 'stopped with a leader just elected');
  // The event is picked in the feed.
  assert.ok((await page.locator('.feed .ev.linked').count()) >= 1);
  await page.click('[data-testid="breakpoint-remove-0"]');
  await page.waitForSelector('[data-testid="breakpoints"][data-count="0"]');
  assertNoProblems();
  await page.close();
});

test('the space-time diagram follows the clock, zooms, links and exports', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?seed=5&paused=1' });
  for (let i = 0; i < 2; i++) await page.click('[data-testid="forward-1000"]');
  const st = page.locator('[data-testid="spacetime"]');
  assert.equal(await st.getAttribute('data-window-ms'), '1000');
  assert.equal(await st.getAttribute('data-to'), String(Number(await st.getAttribute('data-from')) + 1000));
  assert.ok(Number(await st.getAttribute('data-arrows')) > 5);
  // Follows the clock.
  const to = Number(await st.getAttribute('data-to'));
  await page.click('[data-testid="forward-1000"]');
  assert.equal(Number(await st.getAttribute('data-to')), to + 1000);
  // Zoom.
  await page.click('[data-testid="spacetime-zoom-in"]');
  assert.equal(await st.getAttribute('data-window-ms'), '500');
  await page.click('[data-testid="spacetime-zoom-out"]');
  await page.click('[data-testid="spacetime-zoom-out"]');
  assert.equal(await st.getAttribute('data-window-ms'), '2000');
  // Pick a delivered message: the selection is described, and the feed
  // marks its send and delivery.
  // The arrows are a few paths the page hit-tests: the hidden list says
  // where a delivered one's middle is (simulated ms, y), the diagram's
  // data-map where a time falls (x = a + b·ms), and its viewBox how the
  // drawing fits its box. Hovering there names the message; a click picks it.
  await st.scrollIntoViewIfNeeded();
  const arrow = page.locator('[data-testid="st-arrow"][data-lost="false"][data-at]').last();
  const id = await arrow.getAttribute('data-id');
  const [ms, y] = (await arrow.getAttribute('data-at')).split(' ').map(Number);
  const [a, b] = (await st.getAttribute('data-map')).split(' ').map(Number);
  const [, , vw, vh] = (await st.getAttribute('viewBox')).split(' ').map(Number);
  const box = await st.boundingBox();
  const s = Math.min(box.width / vw, box.height / vh);
  const at = { x: box.x + (box.width - vw * s) / 2 + (a + b * ms) * s, y: box.y + (box.height - vh * s) / 2 + y * s };
  await page.mouse.move(at.x, at.y);
  assert.match(await page.locator('.st-bg title').textContent(), new RegExp(`^#${id} `));
  assert.equal(await st.evaluate((e) => e.classList.contains('on-arrow')), true, 'the pointer shows it is clickable');
  await page.mouse.click(at.x, at.y);
  await page.waitForSelector('[data-testid="selection"]');
  assert.match(await page.locator('[data-testid="selection"]').textContent(), new RegExp(`Message #${id}`));
  assert.ok((await page.locator('.feed .ev.linked').count()) >= 1, 'the feed marks it');
  assert.equal(await page.locator(`[data-testid="st-arrow"][data-id="${id}"]`).getAttribute('class').then((c) => c.includes('st-linked')), true);
  // Pick a log entry: the append event is picked everywhere.
  await page.locator('[data-testid="log-1-1"]').click();
  await page.waitForSelector('[data-testid="log-1-1"][data-linked="true"]');
  assert.match(await page.locator('[data-testid="selection"]').textContent(), /Event #\d+/);
  await screenshot('spacetime-linked');
  // Export as SVG.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-svg"]')]);
  const svg = fs.readFileSync(await download.path(), 'utf8');
  assert.match(svg, /^<\?xml/);
  assert.match(svg, /<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<style>/);
  // The arrows, as the page draws them: paths styled by their classes.
  assert.match(svg, /<g class="st-arrow st-[a-z]+[^"]*"><path [^>]*\bd="M[\d.]+ [\d.]+L/);
  assert.match(svg, /<path [^>]*class="line"/);
  assert.ok(download.suggestedFilename().endsWith('.svg'));
  assertNoProblems();
  await page.close();
});

// The experiment's figures as the native build of the worker computes them
// (`experiment-worker KIND RUNS` on the command line, the same code as the
// wasm worker): { setting: [[seed, value], ...] }.
function nativeFigures(kind, runs) {
  const out = execFileSync(
    process.env.CARGO || 'cargo',
    ['run', '--quiet', '--offline', '-p', 'raftlab-web', '--bin', 'experiment-worker', '--', kind, String(runs)],
    { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 },
  );
  const lines = out.trim().split('\n').map((l) => JSON.parse(l));
  const results = lines.find((l) => l.type === 'results').results;
  const bySetting = {};
  for (const r of results) (bySetting[r.setting] ??= []).push([r.seed, r.value]);
  return bySetting;
}

// The figures a plot row shows, from its data-values ("seed:value,...").
async function pageFigures(page, i) {
  const raw = await page.locator(`[data-testid="experiment-group-${i}"]`).getAttribute('data-values');
  return raw.split(',').map((p) => p.split(':')).map(([seed, v]) => [Number(seed), v === '-' ? null : Number(v)]);
}

// Counts animation frames, and notes the frame count each time the
// experiment's progress changes: { done, frames } in order.
const WATCH_PROGRESS = () => {
  window.__frames = 0;
  const tick = () => {
    window.__frames++;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  window.__progress = [];
  new MutationObserver(() => {
    const bar = document.querySelector('[data-testid="experiment-progress"]');
    const done = bar && Number(bar.dataset.done);
    const last = window.__progress[window.__progress.length - 1];
    if (bar && (!last || last.done !== done)) window.__progress.push({ done, frames: window.__frames });
  }).observe(document.body, { subtree: true, childList: true, attributes: true });
};

test('an experiment runs in a Web Worker, fills its plot as results arrive, and matches native runs', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?paused=1' });
  const workers = [];
  page.on('worker', (w) => workers.push(w));
  await page.evaluate(WATCH_PROGRESS);
  await page.selectOption('[data-testid="experiment-kind"]', 'prevote-flaky');
  await page.selectOption('[data-testid="experiment-runs"]', '30');
  await page.click('[data-testid="experiment-run"]');
  const progress = page.locator('[data-testid="experiment-progress"]');
  await progress.waitFor();
  assert.equal(await progress.getAttribute('data-total'), '60');
  // Mid-run, for the look of it.
  await page.waitForSelector('[data-testid="experiment-progress"]:not([data-done="0"])');
  await page.locator('[data-testid="experiments"]').scrollIntoViewIfNeeded();
  await screenshot('experiment-running');
  await page.waitForSelector('[data-testid="experiment-progress"][data-phase="finished"]', { timeout: 120_000 });
  assert.equal(await progress.getAttribute('data-done'), '60');

  // The runs went in a worker the page started from the worker's loader,
  // which fetched its own wasm.
  assert.equal(workers.length, 1, 'one worker');
  // Its files are named after their content (modules.mjs).
  const files = moduleFiles('experiment-worker');
  assert.ok(workers[0].url().endsWith(`/${files.loader}`), workers[0].url());
  const fetched = app.server.requests.filter((r) => r.path.endsWith(`/${files.wasm}`));
  assert.ok(fetched.length >= 1 && fetched.every((r) => r.status === 200), 'the worker fetched its wasm');

  // Results arrived a few at a time, and the page kept drawing frames
  // between them: its own thread was free while the worker ran.
  const seen = await page.evaluate(() => window.__progress);
  const partial = seen.filter((p) => p.done > 0 && p.done < 60);
  assert.ok(partial.length >= 3, `the plot filled in step by step: ${JSON.stringify(seen)}`);
  const first = partial[0];
  const last = seen[seen.length - 1];
  assert.equal(last.done, 60);
  assert.ok(last.frames - first.frames >= 10, `animation frames kept coming while runs finished: ${JSON.stringify(seen)}`);

  // The plot: a dot per run in each row, PreVote off above on.
  const off = await page.locator('[data-testid="experiment-group-0"]').evaluate((e) => ({ ...e.dataset }));
  const on = await page.locator('[data-testid="experiment-group-1"]').evaluate((e) => ({ ...e.dataset }));
  assert.equal(off.n, '30');
  assert.equal(on.n, '30');
  assert.equal(await page.locator('[data-testid="experiment-group-0"] circle.dot').count(), 30);
  assert.equal(await page.locator('[data-testid="experiment-group-1"] circle.dot').count(), 30);
  assert.ok(Number(off.median) > Number(on.median), `PreVote off ${off.median} > on ${on.median}`);

  // Every figure equals the native build's for the same seed and setting.
  const native = nativeFigures('prevote-flaky', 30);
  for (const i of [0, 1]) {
    const figures = await pageFigures(page, i);
    assert.deepEqual(figures, native[i], `setting ${i}: the page's runs equal the native ones`);
  }
  await screenshot('experiment-prevote');

  // A second experiment reuses the worker; Stop terminates it mid-run and
  // keeps what came in; the next run starts a fresh worker.
  await page.selectOption('[data-testid="experiment-runs"]', '100');
  await page.click('[data-testid="experiment-run"]');
  await page.waitForSelector('[data-testid="experiment-progress"][data-total="200"]:not([data-done="0"])');
  assert.equal(workers.length, 1, 'the same worker');
  const closed = new Promise((resolve) => workers[0].once('close', resolve));
  await page.click('[data-testid="experiment-stop"]');
  await closed;
  assert.equal(await progress.getAttribute('data-phase'), 'stopped');
  const kept = Number(await progress.getAttribute('data-done'));
  assert.ok(kept > 0 && kept < 200, `stopped with ${kept} of 200 runs`);
  assert.match(await progress.textContent(), new RegExp(`stopped after ${kept} of 200 runs`));
  await page.selectOption('[data-testid="experiment-kind"]', 'election-timeout');
  await page.selectOption('[data-testid="experiment-runs"]', '10');
  await page.click('[data-testid="experiment-run"]');
  await page.waitForSelector('[data-testid="experiment-progress"][data-phase="finished"][data-total="50"]', { timeout: 120_000 });
  assert.equal(workers.length, 2, 'a fresh worker after Stop');
  const rows = await page.locator('[data-testid^="experiment-group-"]').count();
  assert.equal(rows, 5, 'one row per timeout range');
  assertNoProblems();
  await page.close();
});

test('the experiment worker loads when the app is hosted under a sub-path', async () => {
  const hosted = await startApp({ prefix: '/raftlab/' });
  try {
    const { page, assertNoProblems } = await hosted.open({ path: '?paused=1' });
    await page.selectOption('[data-testid="experiment-runs"]', '10');
    await page.click('[data-testid="experiment-run"]');
    await page.waitForSelector('[data-testid="experiment-progress"][data-phase="finished"]', { timeout: 120_000 });
    const paths = hosted.server.requests.map((r) => r.path);
    const files = moduleFiles('experiment-worker');
    for (const f of [files.loader, files.js, files.wasm]) assert.ok(paths.includes(`/raftlab/${f}`), paths.join(' '));
    assert.deepEqual(paths.filter((p) => !p.startsWith('/raftlab/')), [], 'every request stays under /raftlab/');
    assertNoProblems();
    await page.close();
  } finally {
    await hosted.close();
  }
});

void lessonState;
