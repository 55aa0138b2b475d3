// The page as a class sees it: a busy cluster, the keyboard, presentation
// mode, and bad settings refused with a message instead of a crash. The
// screenshot `showcase.png` is the one docs/screenshot.png is taken from.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from '../lib/index.mjs';
import { client, clientResult, electLeader, node, nodeIds, select, status, until } from './raftlab-page.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

test('a busy cluster: entries replicated, a follower back from a crash, the leader down, an election on', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?seed=11&paused=1' });
  const lead = await electLeader(page);
  const others = (await nodeIds(page)).filter((id) => id !== lead);
  for (const [k, v] of [['x', '1'], ['y', '2']]) {
    await client(page, 'put', k, v);
    await until(page, `put ${k}`, async () => (await clientResult(page)).phase === 'ok', { button: 'forward-10' });
  }
  await select(page, others[2]);
  await page.click('[data-testid="crash"]');
  for (const [k, v] of [['z', '3'], ['x', '4']]) {
    await client(page, 'put', k, v);
    await until(page, `put ${k}`, async () => (await clientResult(page)).phase === 'ok', { button: 'forward-10' });
  }
  await page.click('[data-testid="restart"]');
  await page.click('[data-testid="forward-100"]');
  await select(page, lead);
  await page.click('[data-testid="crash"]');
  await client(page, 'put', 'y', '5');
  // Stop while a candidate's vote requests are on the wire.
  const candidate = await until(
    page,
    'an election with votes in flight',
    async () => {
      const c = await page.locator('[data-role="candidate"]').first();
      if ((await page.locator('[data-role="candidate"]').count()) === 0) return null;
      const n = await page.locator('[data-testid="msg"][data-kind^="request_vote"]').count();
      return n >= 3 ? (await c.getAttribute('data-testid')).slice(5) : null;
    },
    { button: 'step', max: 600 },
  );
  await select(page, candidate);
  await page.click('[data-testid="forward-10"]');
  assert.equal(await page.locator('[data-testid="inspector"]').getAttribute('data-node'), candidate);
  assert.equal(await page.locator('[data-testid="safety"]').getAttribute('data-status'), 'ok');
  await screenshot('showcase');
  assertNoProblems();
  await page.close();
});

test('keyboard: space plays and pauses, arrows step, ? lists the shortcuts', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=12&paused=1' });
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('ArrowRight');
  const stepped = await status(page);
  assert.ok(Number(stepped.position) > 0, '→ stepped to the first event');
  await page.keyboard.press('ArrowLeft');
  assert.ok(Number((await status(page)).position) < Number(stepped.position), '← stepped back');
  await page.keyboard.press('Space');
  assert.equal((await status(page)).playing, 'true');
  await page.keyboard.press('Space');
  assert.equal((await status(page)).playing, 'false');
  await page.keyboard.press('3');
  assert.equal(await page.locator('[data-testid="node-3"]').getAttribute('data-selected'), 'true');
  await page.keyboard.press('?');
  await page.waitForSelector('[data-testid="help"]');
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('[data-testid="help"]').count(), 0);
  assertNoProblems();
  await page.close();
});

test('presentation mode and bad settings', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?seed=13&paused=1' });
  await page.fill('[data-testid="nodes"]', '12');
  await page.click('[data-testid="reset"]');
  await page.waitForSelector('[data-testid="settings-error"]');
  assert.match(await page.locator('[data-testid="settings-error"]').textContent(), /1 to 9/);
  await page.fill('[data-testid="nodes"]', '3');
  await page.fill('[data-testid="election-min"]', '400');
  await page.fill('[data-testid="election-max"]', '100');
  await page.click('[data-testid="reset"]');
  await page.waitForSelector('[data-testid="settings-error"]');
  assert.equal(await page.locator('[data-testid^="node-"]').count(), 5, 'the old run stays');

  await page.fill('[data-testid="election-min"]', '150');
  await page.fill('[data-testid="election-max"]', '300');
  await page.fill('[data-testid="seed"]', '99');
  await page.click('[data-testid="reset"]');
  assert.equal(await page.locator('[data-testid^="node-"]').count(), 3);
  assert.equal(await page.locator('[data-testid="settings-error"]').count(), 0);

  await page.click('[data-testid="present"]');
  assert.equal(await page.locator('[data-testid="present"]').getAttribute('aria-pressed'), 'true');
  await electLeader(page);
  assert.equal((await node(page, (await status(page)).leader)).role, 'leader');
  await screenshot('presentation');
  assertNoProblems();
  await page.close();
});
