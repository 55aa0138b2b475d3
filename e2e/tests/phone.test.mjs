// A student on a 390x844 phone: one column in the order a student needs it,
// the lesson right under the ring, and no sideways scrolling.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from '../lib/index.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

const top = (page, sel) => page.locator(sel).first().evaluate((e) => e.getBoundingClientRect().top);

test('on a phone a lesson comes right under the ring, before the node controls and the feed', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?lesson=leader-election' });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForSelector('[data-testid="lesson"][data-lesson="leader-election"]');
  const ring = await page.locator('svg.cluster').evaluate((e) => e.getBoundingClientRect().bottom);
  const lesson = await top(page, '[data-testid="lesson"]');
  const nodes = await top(page, '.node-panel');
  const feed = await top(page, '.feed-panel');
  assert.ok(ring <= lesson, `the lesson (${lesson}) is under the ring (${ring})`);
  assert.ok(lesson < nodes && nodes < feed, `lesson ${lesson}, node controls ${nodes}, feed ${feed}`);
  assert.ok(lesson < 844, 'the lesson starts in the first screenful');
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390, 'no sideways scrolling');
  await screenshot('phone-lesson');
  assertNoProblems();
  await page.close();
});

test('on a phone a selected node\'s controls come right under the ring', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=3&paused=1' });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.click('[data-testid="node-2"]');
  const ring = await page.locator('svg.cluster').evaluate((e) => e.getBoundingClientRect().bottom);
  const crash = await top(page, '[data-testid="crash"]');
  assert.ok(crash > ring && crash - ring < 250, `Crash is ${Math.round(crash - ring)} px under the ring`);
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390);
  // Every panel takes the column's width (none shrinks to its content).
  const narrow = await page.evaluate(() => [...document.querySelectorAll('.layout .panel')]
    .filter((e) => e.getClientRects().length > 0 && e.getBoundingClientRect().width < 300)
    .map((e) => e.className));
  assert.deepEqual(narrow, []);
  assertNoProblems();
  await page.close();
});
