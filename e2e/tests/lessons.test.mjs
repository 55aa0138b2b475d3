// Every lesson listed in static/lessons/index.json reaches its end in the
// page with only the answers and Next (the lesson runs its own clock, at
// its own speed, through the violations a break-it step expects), right
// answers checked against the feedback, no console errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startApp } from '../lib/index.mjs';
import { LESSONS, index, part, everyLessonReachesItsEnd } from './lesson-run.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

test('the lesson menu lists every lesson of index.json', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?paused=1' });
  await page.waitForSelector('[data-testid="lesson-picker"]:not([disabled])');
  const ids = await page.$$eval('[data-testid="lesson-picker"] option', (os) => os.map((o) => o.value).filter(Boolean));
  assert.deepEqual(ids, index.map((l) => l.id));
  // Picking one starts it.
  await page.selectOption('[data-testid="lesson-picker"]', 'split-vote');
  await page.waitForSelector('[data-testid="lesson"][data-lesson="split-vote"]');
  assert.match(await page.locator('[data-testid="lesson-progress"]').textContent(), /step 1 of \d+/);
  assertNoProblems();
  await page.close();
});

everyLessonReachesItsEnd(part(0, 3), () => app);

test('a lesson linked with paused=1 opens paused, says so, and holds its own Play', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?lesson=leader-crash&paused=1' });
  await page.waitForSelector('[data-testid="lesson"][data-lesson="leader-crash"]');
  const held = page.locator('[data-testid="lesson-waiting"][data-paused="true"]');
  await held.waitFor();
  assert.match(await held.textContent(), /clock is paused/);
  const now = await page.locator('[data-testid="status"]').evaluate((e) => e.dataset.now);
  await page.waitForTimeout(300);
  assert.equal(await page.locator('[data-testid="status"]').evaluate((e) => e.dataset.now), now, 'nothing runs');
  await page.click('[data-testid="lesson-play"]');
  await page.waitForSelector('[data-testid="pause"]');
  assert.equal(await held.count(), 0, 'the panel no longer holds Play');
  await page.waitForFunction((now) => document.querySelector('[data-testid="status"]').dataset.now !== now, now);
  assertNoProblems();
  await page.close();
});

test('back replays the lesson to the previous step', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?lesson=leader-crash&paused=1' });
  await page.waitForSelector('[data-testid="lesson"][data-lesson="leader-crash"]');
  const lesson = JSON.parse(fs.readFileSync(path.join(LESSONS, '03-leader-crash.json'), 'utf8'));
  // Through step 1, into step 2.
  await page.click('[data-testid="lesson-finish"]');
  await page.waitForSelector('[data-testid="lesson"][data-status="done"]');
  const atDone = await page.locator('[data-testid="status"]').evaluate((e) => e.dataset.now);
  await page.click('[data-testid="lesson-next"]');
  await page.waitForSelector('[data-testid="lesson"][data-index="1"]');
  if (lesson.steps[1].question) {
    assert.equal(await page.locator('[data-testid="lesson-finish"]').isDisabled(), true, 'the question comes first');
  }
  await page.click('[data-testid="lesson-back"]');
  await page.waitForSelector('[data-testid="lesson"][data-index="0"]');
  // Back at the start of step 1: replaying it ends at the same moment.
  await page.click('[data-testid="lesson-finish"]');
  await page.waitForSelector('[data-testid="lesson"][data-status="done"]');
  assert.equal(await page.locator('[data-testid="status"]').evaluate((e) => e.dataset.now), atDone);
  assertNoProblems();
  await page.close();
});

test('highlights of a lesson step mark the ring', async () => {
  // Find a lesson whose first step highlights nodes.
  const entry = index.find((e) => {
    const l = JSON.parse(fs.readFileSync(path.join(LESSONS, e.file), 'utf8'));
    return (l.steps[0].highlight?.nodes ?? []).length > 0;
  });
  if (!entry) return;
  const lesson = JSON.parse(fs.readFileSync(path.join(LESSONS, entry.file), 'utf8'));
  const { page, assertNoProblems } = await app.open({ path: `?lesson=${entry.id}&paused=1` });
  await page.waitForSelector(`[data-testid="lesson"][data-lesson="${entry.id}"]`);
  for (const n of lesson.steps[0].highlight.nodes) {
    assert.equal(await page.locator(`[data-testid="ring-node-${n}"]`).getAttribute('data-emphasis'), 'hl');
  }
  assertNoProblems();
  await page.close();
});

