// Break-it mode, breakpoints, the space-time diagram linked with the other
// views, and experiments in the background.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startApp } from '../lib/index.mjs';
import { lessonState, playLesson, status } from './raftlab-page.mjs';

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
  await st.scrollIntoViewIfNeeded();
  const arrow = page.locator('[data-testid="st-arrow"][data-lost="false"]').last();
  const id = await arrow.getAttribute('data-id');
  await arrow.locator('.hit').click({ force: true });
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
  assert.ok(download.suggestedFilename().endsWith('.svg'));
  assertNoProblems();
  await page.close();
});

test('an experiment runs many seeds in the background and plots them', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?paused=1' });
  await page.selectOption('[data-testid="experiment-kind"]', 'prevote-flaky');
  await page.selectOption('[data-testid="experiment-runs"]', '10');
  await page.click('[data-testid="experiment-run"]');
  const progress = page.locator('[data-testid="experiment-progress"]');
  await progress.waitFor();
  assert.equal(await progress.getAttribute('data-total'), '20');
  // The page stays responsive meanwhile: the clock still moves on request.
  await page.click('[data-testid="forward-100"]');
  assert.equal((await status(page)).now, '100');
  await page.waitForSelector('[data-testid="experiment-progress"][data-done="20"]', { timeout: 90_000 });
  const off = await page.locator('[data-testid="experiment-group-0"]').evaluate((e) => ({ ...e.dataset }));
  const on = await page.locator('[data-testid="experiment-group-1"]').evaluate((e) => ({ ...e.dataset }));
  assert.equal(off.n, '10');
  assert.equal(on.n, '10');
  assert.ok(Number(off.median) > Number(on.median), `PreVote off ${off.median} > on ${on.median}`);
  await page.locator('[data-testid="experiments"]').scrollIntoViewIfNeeded();
  await screenshot('experiment-prevote');
  assertNoProblems();
  await page.close();
});

void lessonState;
