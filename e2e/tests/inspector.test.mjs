// The node inspector tells messages as they happened: "in" lists only
// deliveries to the node, "out" lists its sends with their fate (in
// flight, delivered, dropped and why), as of the moment shown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from '../lib/index.mjs';
import { electLeader, nodeIds, select, status, until } from './raftlab-page.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

/** The data-* attributes of the inspector's rows in list `which` (in/out). */
async function rows(page, which) {
  return page.evaluate(
    (which) =>
      [...document.querySelectorAll(`[data-testid="inspector-${which}"] [data-testid="inspector-${which}-row"]`)].map((e) => ({
        ...e.dataset,
        text: e.textContent,
      })),
    which,
  );
}

test('a crashed node receives nothing; the leader sees its messages to it dropped', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?seed=8&paused=1' });
  const lead = await electLeader(page);
  const down = (await nodeIds(page)).find((id) => id !== lead);
  await page.click('[data-testid="forward-100"]');

  await select(page, down);
  assert.ok((await rows(page, 'in')).length > 0, `S${down} received messages while up`);
  await page.click('[data-testid="crash"]');
  const crashedAt = Number((await status(page)).now);

  await select(page, lead);
  const dropped = `[data-testid="inspector-out-row"][data-peer="${down}"][data-fate="dropped"][data-reason="crashed"]`;
  await until(page, `the leader's "out" shows a message to S${down} dropped`, async () =>
    (await page.locator(dropped).count()) > 0, { button: 'forward-10' });
  const row = page.locator(dropped).first();
  assert.match(await row.textContent(), new RegExp(`→ S${down} · term \\d+.*dropped at \\d+ ms: S${down} was down \\(crashed\\)`));
  assert.ok(Number(await row.getAttribute('data-at')) >= crashedAt);
  await screenshot('inspector-leader-out');

  await page.click('[data-testid="forward-1000"]');
  await select(page, down);
  assert.equal(await page.locator('[data-testid="inspector"]').getAttribute('data-node'), down);
  const inbox = await rows(page, 'in');
  assert.ok(inbox.length > 0, 'its deliveries before the crash are still listed');
  for (const m of inbox) {
    assert.equal(m.fate, 'delivered');
    assert.ok(Number(m.time) <= crashedAt, `S${down} received #${m.id} at ${m.time} ms, after its crash at ${crashedAt} ms`);
  }
  assertNoProblems();
  await page.close();
});

test('stepping back shows a delivered message in flight again', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=8&paused=1' });
  const lead = await electLeader(page);
  await select(page, lead);
  const m = await until(page, 'a delivered message that travelled', async () =>
    (await rows(page, 'out')).find((r) => r.fate === 'delivered' && Number(r.at) > Number(r.time)), { button: 'forward-10' });
  assert.match(m.text, /delivered at \d+ ms/);
  const here = Number((await status(page)).now);
  assert.ok(here >= Number(m.at));
  await until(page, `the clock before #${m.id} arrived`, async () => Number((await status(page)).now) < Number(m.at),
    { button: 'step-back', max: 400 });
  const then = (await rows(page, 'out')).find((r) => r.id === m.id);
  assert.ok(then, `#${m.id} is still listed`);
  assert.equal(then.fate, 'in-flight');
  assert.match(then.text, /in flight/);
  const peer = m.peer;
  await select(page, peer);
  assert.ok(!(await rows(page, 'in')).some((r) => r.id === m.id), `S${peer} has not received #${m.id} yet`);
  assertNoProblems();
  await page.close();
});
