// Membership: a node added as a learner catches up and is promoted to
// voter; removing the leader makes the others elect a new one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from '../lib/index.mjs';
import { electLeader, logRow, node, select, status, until } from './raftlab-page.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

test('a learner catches up, is promoted, and removing the leader forces an election', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?seed=3&paused=1' });
  const first = await electLeader(page);
  await page.click('[data-testid="add-learner"]');
  await page.waitForSelector('[data-testid="node-6"]');
  await until(page, 'S6 is a learner with the leader\'s log', async () => {
    const n = await node(page, '6');
    const mine = await logRow(page, '6');
    const theirs = await logRow(page, first);
    return n.standing === 'learner' && mine.last === theirs.last && mine.commit === theirs.commit;
  });
  await screenshot('membership-learner');

  await select(page, '6');
  await page.click('[data-testid="promote"]');
  await until(page, 'S6 is a voter, and the change is committed', async () => {
    const row = await logRow(page, first);
    return (await node(page, '6')).standing === 'voter' && row.commit === row.last;
  });

  await select(page, first);
  await page.click('[data-testid="remove"]');
  assert.equal(await page.locator('[data-testid="notice"]').count(), 0, 'the removal was accepted');
  const next = await until(page, 'a new leader after the removal', async () => {
    const l = (await status(page)).leader;
    return l && l !== first ? l : null;
  });
  assert.equal((await node(page, first)).standing, 'outside');
  assert.ok(Number((await node(page, next)).term) > 0);
  await screenshot('membership-removed-leader');
  assertNoProblems();
  await page.close();
});
