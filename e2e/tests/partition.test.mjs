// A partition: the old leader, cut off in the minority, cannot commit a
// client's put; the majority elects a new leader and commits it; healing
// brings every log to the same entries.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from '../lib/index.mjs';
import { client, clientResult, electLeader, logRow, logTerms, node, nodeIds, status, until } from './raftlab-page.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

test('the minority cannot commit, the majority can, and healing converges', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?seed=2&paused=1' });
  const old = await electLeader(page);
  const oldTerm = Number((await node(page, old)).term);
  const ids = await nodeIds(page);
  const buddy = ids.find((id) => id !== old);
  const majority = ids.filter((id) => id !== old && id !== buddy);

  // Group B: the leader and one follower.
  await page.click(`[data-testid="part-${old}"]`);
  await page.click(`[data-testid="part-${buddy}"]`);
  await page.click('[data-testid="partition"]');
  assert.equal(await page.locator(`[data-testid="link-${old}-${majority[0]}"]`).getAttribute('data-up'), 'false');

  await client(page, 'put', 'k', 'v');
  const before = await logRow(page, old);
  await page.click('[data-testid="forward-100"]');
  const stuck = await logRow(page, old);
  assert.ok(Number(stuck.last) > Number(stuck.commit), `S${old} holds an uncommitted entry (${JSON.stringify(stuck)})`);
  assert.equal(stuck.commit, before.commit, 'the minority leader commits nothing');
  const orphan = Number(stuck.last);
  assert.equal(
    await page.locator(`[data-testid="log-${old}-${orphan}"]`).getAttribute('data-committed'),
    'false',
  );
  await screenshot('partition-minority');

  const fresh = await until(page, 'the majority elects a leader', async () => {
    const l = (await status(page)).leader;
    return majority.includes(l) ? l : null;
  });
  assert.ok(Number((await node(page, fresh)).term) > oldTerm);
  await until(page, 'the put commits in the majority', async () => (await clientResult(page)).phase === 'ok');
  assert.equal(Number((await logRow(page, old)).commit), Number(stuck.commit), 'still nothing new committed on the minority side');
  await screenshot('partition-majority');

  await page.click('[data-testid="heal"]');
  await until(page, 'every log converges', async () => {
    const rows = await Promise.all(ids.map((id) => logRow(page, id)));
    const lasts = new Set(rows.map((r) => r.last));
    const commits = new Set(rows.map((r) => r.commit));
    return lasts.size === 1 && commits.size === 1 && rows[0].commit === rows[0].last;
  });
  const reference = await logTerms(page, fresh);
  for (const id of ids) assert.deepEqual(await logTerms(page, id), reference, `S${id}'s log equals S${fresh}'s`);
  assert.notEqual(reference[orphan], String(oldTerm), 'the orphaned entry was replaced');
  await screenshot('partition-healed');
  assertNoProblems();
  await page.close();
});
