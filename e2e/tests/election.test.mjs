// Elections for real: a leader emerges, crashing it brings a new leader in
// a higher term, and the old one restarts as a follower and catches up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from '../lib/index.mjs';
import { client, clientResult, electLeader, logRow, node, select, status, until } from './raftlab-page.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

test('a leader is elected, replaced after a crash, and the old one catches up', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?seed=1&paused=1' });
  const first = await electLeader(page);
  const firstTerm = Number((await node(page, first)).term);
  assert.equal((await node(page, first)).role, 'leader');
  await screenshot('election-leader');

  await select(page, first);
  await page.click('[data-testid="crash"]');
  assert.equal((await node(page, first)).alive, 'false');

  const second = await until(page, 'a new leader', async () => {
    const l = (await status(page)).leader;
    return l && l !== first ? l : null;
  });
  const secondTerm = Number((await node(page, second)).term);
  assert.ok(secondTerm > firstTerm, `new term ${secondTerm} > ${firstTerm}`);

  // Something for the crashed node to miss.
  await client(page, 'put', 'x', '42');
  await until(page, 'the put commits', async () => (await clientResult(page)).phase === 'ok');
  assert.match((await clientResult(page)).text, /put x=42/);
  const target = await logRow(page, second);

  await select(page, first);
  await page.click('[data-testid="restart"]');
  assert.equal((await node(page, first)).alive, 'true');
  await until(page, `S${first} catches up`, async () => {
    const n = await node(page, first);
    const row = await logRow(page, first);
    return n.role === 'follower' && Number(row.last) >= Number(target.last) && Number(n.commit) >= Number(target.commit);
  });
  assert.equal((await node(page, first)).term, String((await node(page, second)).term));
  await screenshot('election-caught-up');

  // Leadership transfer (thesis §3.10) back to the node that caught up.
  await page.click('[data-testid="transfer"]');
  await until(page, `S${first} takes over`, async () => (await status(page)).leader === first, { button: 'forward-10' });
  assert.ok(Number((await node(page, first)).term) > secondTerm);
  assertNoProblems();
  await page.close();
});

test('clicking the selected node keeps it selected; Esc or empty space deselects', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=3&paused=1' });
  const n2 = page.locator('[data-testid="node-2"]');
  await n2.click();
  await page.waitForSelector('[data-testid="node-2"][data-selected="true"]');
  // A teacher crashes it, then clicks it again to restart it.
  await page.click('[data-testid="crash"]');
  await n2.click();
  assert.equal(await n2.getAttribute('data-selected'), 'true', 'still selected after a second click');
  assert.equal(await page.locator('[data-testid="restart"]').isEnabled(), true, 'Restart is at hand');
  await page.keyboard.press('Escape');
  await page.waitForSelector('[data-testid="node-2"][data-selected="false"]');
  await n2.click();
  await page.waitForSelector('[data-testid="node-2"][data-selected="true"]');
  // A click on empty space in the drawing (its top left corner) deselects.
  await page.locator('[data-testid="ring-backdrop"]').click({ position: { x: 5, y: 60 } });
  await page.waitForSelector('[data-testid="node-2"][data-selected="false"]');
  assertNoProblems();
  await page.close();
});

test('the caption under the ring tells the newest event as you step, forward and back', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=3&paused=1' });
  const caption = page.locator('[data-testid="ring-caption"]');
  // At 0 ms the servers have just booted: the caption tells the last boot event.
  assert.match(await caption.textContent(), /^0 ms · #\d+S\d/);
  await page.click('[data-testid="forward-1000"]');
  const before = await caption.getAttribute('data-seq');
  const text = await caption.textContent();
  assert.match(text, /S\d/, 'names a server');
  // Step until the caption changes (heartbeats are passed over).
  for (let i = 0; i < 50 && (await caption.getAttribute('data-seq')) === before; i++) {
    await page.click('[data-testid="step"]');
  }
  const after = await caption.getAttribute('data-seq');
  assert.ok(Number(after) > Number(before), `#${after} after #${before}`);
  const seq = Number((await page.locator('[data-testid="status"]').getAttribute('data-position')));
  assert.ok(Number(after) <= seq, 'never an event from the future');
  // Stepping back past it shows an earlier event again.
  for (let i = 0; i < 60 && (await caption.getAttribute('data-seq')) === after; i++) {
    await page.click('[data-testid="step-back"]');
  }
  assert.ok(Number(await caption.getAttribute('data-seq')) < Number(after));
  assertNoProblems();
  await page.close();
});
