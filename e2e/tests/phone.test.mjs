// A student on a 390x844 phone: one column in the order a student needs it,
// the lesson right under the ring, and no sideways scrolling.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startApp, REPO_ROOT } from '../lib/index.mjs';

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
  const narration = await top(page, '[data-testid="lesson-narration"]');
  assert.ok(narration < 844 - 40, `the lesson's text starts in the first screenful (at ${narration} px)`);
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390, 'no sideways scrolling');
  await screenshot('phone-lesson');
  await page.screenshot({ path: path.join(REPO_ROOT, 'docs', 'phone-lesson.png') });
  assertNoProblems();
  await page.close();
});

test('on a phone a selected node\'s actions come right under the ring', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=3&paused=1' });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.click('[data-testid="node-2"]');
  const ring = await page.locator('svg.cluster').evaluate((e) => e.getBoundingClientRect().bottom);
  const crash = await top(page, '[data-testid="bar-crash"]');
  assert.ok(crash > ring && crash - ring < 150, `Crash is ${Math.round(crash - ring)} px under the ring`);
  await page.click('[data-testid="bar-crash"]');
  await page.waitForSelector('[data-testid="node-2"][data-alive="false"]');
  assert.equal(await page.locator('[data-testid="node-2"]').getAttribute('data-selected'), 'true');
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390);
  // Every panel takes the column's width (none shrinks to its content).
  const narrow = await page.evaluate(() => [...document.querySelectorAll('.layout .panel')]
    .filter((e) => e.getClientRects().length > 0 && e.getBoundingClientRect().width < 300)
    .map((e) => e.className));
  assert.deepEqual(narrow, []);
  assertNoProblems();
  await page.close();
});

/** The controls a finger can use that are smaller than 44x44 px. */
const smallTargets = (page) => page.evaluate(() => [...document.querySelectorAll('button, select, a, input:not([type="checkbox"])')]
  .filter((e) => e.getClientRects().length > 0)
  .filter((e) => { const b = e.getBoundingClientRect(); return b.width < 44 || b.height < 44; })
  .map((e) => e.dataset.testid || e.className || e.textContent.trim().slice(0, 20)));

for (const [width, height] of [[390, 844], [768, 1024]]) {
  test(`at ${width}x${height} every control is at least 44x44 px and nothing scrolls sideways`, async () => {
    const { page, assertNoProblems } = await app.open({ path: '?lesson=leader-election&paused=1' });
    await page.setViewportSize({ width, height });
    await page.waitForSelector('[data-testid="lesson"][data-lesson="leader-election"]');
    await page.click('[data-testid="node-1"]');
    await page.waitForSelector('[data-testid="selection-bar"]');
    assert.deepEqual(await smallTargets(page), []);
    // A checkbox's target is its whole label.
    const boxes = await page.evaluate(() => [...document.querySelectorAll('input[type="checkbox"]')]
      .filter((e) => e.getClientRects().length > 0)
      .map((e) => (e.closest('label') || e).getBoundingClientRect().height));
    assert.ok(boxes.every((h) => h >= 44), `checkbox labels: ${boxes}`);
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), width);
    assertNoProblems();
    await page.close();
  });
}

test('on an upright tablet a lesson sits beside the ring, in the first screenful', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?lesson=leader-election' });
  await page.setViewportSize({ width: 768, height: 1024 });
  await page.waitForSelector('[data-testid="lesson"][data-lesson="leader-election"]');
  const ring = await page.locator('svg.cluster').evaluate((e) => e.getBoundingClientRect().toJSON());
  const narration = await page.locator('[data-testid="lesson-narration"]').evaluate((e) => e.getBoundingClientRect().toJSON());
  assert.ok(narration.left >= ring.right, 'the lesson is beside the ring');
  assert.ok(narration.top < ring.bottom, `the lesson's text starts level with the ring (${narration.top})`);
  assertNoProblems();
  await page.close();
});
