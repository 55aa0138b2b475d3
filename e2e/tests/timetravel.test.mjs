// Time travel is exact: stepping back and forward again gives the same
// state, and acting in the past starts a new branch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from '../lib/index.mjs';
import { electLeader, select, snapshotOfPage, status } from './raftlab-page.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

test('step back then forward returns to exactly the same state', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=5&paused=1' });
  await electLeader(page);
  await page.click('[data-testid="forward-100"]');
  await page.click('[data-testid="step"]');
  const here = await snapshotOfPage(page);
  for (let i = 0; i < 12; i++) await page.click('[data-testid="step-back"]');
  const back = await snapshotOfPage(page);
  assert.notDeepEqual(back, here, 'stepping back changed what is drawn');
  assert.equal((await status(page)).inPast, 'true');
  for (let i = 0; i < 12; i++) await page.click('[data-testid="step"]');
  assert.deepEqual(await snapshotOfPage(page), here);
  assert.equal((await status(page)).inPast, 'false');
  assertNoProblems();
  await page.close();
});

test('scrubbing back and acting there starts a new branch', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?seed=5&paused=1' });
  await electLeader(page);
  await page.click('[data-testid="forward-1000"]');
  const end = await status(page);
  await page.locator('[data-testid="timeline"]').scrollIntoViewIfNeeded();
  const box = await page.locator('[data-testid="timeline"]').boundingBox();
  await page.mouse.click(box.x + box.width * 0.3, box.y + box.height / 2);
  const past = await status(page);
  assert.ok(Number(past.now) < Number(end.now), `scrubbed back to ${past.now} ms`);
  assert.equal(past.inPast, 'true');
  await page.waitForSelector('[data-testid="future"]');

  await select(page, '1');
  await page.click('[data-testid="timeout"]');
  const branched = await status(page);
  assert.equal(branched.branches, '1');
  assert.equal(branched.inPast, 'false');
  assert.ok(Number(branched.events) < Number(end.events), 'the old future was discarded');
  await page.waitForSelector('[data-testid="branch"]');
  await page.click('[data-testid="forward-100"]');
  await screenshot('timetravel-branch');
  assertNoProblems();
  await page.close();
});
