// Chunked snapshots: a follower that missed entries the leader compacted
// gets a snapshot in several chunks, with visible progress, and its log
// base moves up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, screenshot as shoot } from '../lib/index.mjs';
import { client, clientResult, electLeader, logRow, nodeIds, select, until } from './raftlab-page.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

test('a snapshot travels in chunks and moves the follower\'s log base', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?seed=4&paused=1&chunk=64' });
  const lead = await electLeader(page);
  const behind = (await nodeIds(page)).find((id) => id !== lead);
  await select(page, behind);
  await page.click('[data-testid="crash"]');

  for (const [k, v] of [['a', 'apple'], ['b', 'banana'], ['c', 'cherry'], ['d', 'date']]) {
    await client(page, 'put', k, v);
    await until(page, `put ${k} commits`, async () => (await clientResult(page)).phase === 'ok', { button: 'forward-10' });
  }
  await select(page, lead);
  await page.click('[data-testid="snapshot"]');
  assert.ok(Number((await logRow(page, lead)).base) > 0, 'the leader compacted its log');

  await select(page, behind);
  await page.click('[data-testid="restart"]');
  const chunks = new Set();
  let sawProgress = false;
  let shot = false;
  await until(
    page,
    `S${behind} installs the snapshot`,
    async () => {
      const inFlight = await page.locator('[data-testid="msg"][data-kind="snapshot"]').allTextContents();
      for (const m of inFlight) chunks.add(m.trim());
      const inspector = await page.locator('[data-testid="inspector"]').textContent();
      if (/receiving snapshot/.test(inspector)) {
        sawProgress = true;
        if (!shot && inFlight.length > 0) {
          await shoot(page, 'snapshot-progress');
          shot = true;
        }
      }
      return Number((await logRow(page, behind)).base) > 0;
    },
    { button: 'forward-10', max: 200 },
  );
  assert.ok(chunks.size >= 2, `several chunks were seen in flight: ${[...chunks].join(', ')}`);
  assert.ok(sawProgress, 'the inspector showed the snapshot arriving');
  const row = await logRow(page, behind);
  assert.equal(row.base, (await logRow(page, lead)).base, 'the follower\'s base is the leader\'s snapshot');
  await screenshot('snapshot-installed');
  assertNoProblems();
  await page.close();
});
