// Time travel is exact: stepping back and forward again gives the same
// state, and acting in the past starts a new branch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
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

test('the page keeps a bounded history: the timeline shows where it starts, rewinding stops there, the trace still starts at event 1', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?seed=3&paused=1&history=1000' });
  const first = await status(page);
  assert.equal(first.historyLimit, '1000');
  assert.equal(first.historySeq, '1', 'nothing dropped yet');
  assert.equal(await page.locator('[data-testid="history-start"]').count(), 0);
  for (let i = 0; i < 60 && (await status(page)).historySeq === '1'; i++) {
    await page.click('[data-testid="forward-1000"]');
  }
  const end = await status(page);
  assert.ok(Number(end.historySeq) > 1, `old events dropped (history starts at #${end.historySeq})`);
  const mark = page.locator('[data-testid="history-start"]');
  await mark.waitFor();
  assert.equal(await mark.getAttribute('data-time'), end.historyTime);
  assert.equal(await mark.getAttribute('data-seq'), end.historySeq);
  await page.locator('[data-testid="timeline"]').scrollIntoViewIfNeeded();
  await screenshot('timetravel-history-start');

  // Rewinding before the kept history lands at its start.
  const box = await page.locator('[data-testid="timeline"]').boundingBox();
  await page.mouse.click(box.x + 2, box.y + box.height / 2);
  const back = await status(page);
  assert.equal(back.now, end.historyTime, 'the clock stops where the history starts');
  assert.equal(back.position, String(Number(end.historySeq) - 1));
  assert.equal(back.inPast, 'true');

  // The trace export rebuilds the forgotten events: a valid trace from #1.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-trace"]')]);
  const lines = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
  assert.equal(JSON.parse(lines[0]).format, 'raftlab-trace');
  assert.equal(JSON.parse(lines[1]).seq, 1);
  assert.equal(String(lines.length - 1), back.events, 'every known event');
  lines.slice(1).forEach((l, i) => assert.equal(JSON.parse(l).seq, i + 1));
  assertNoProblems();
  await page.close();
});
