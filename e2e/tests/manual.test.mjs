// Directing the protocol (issue 19): a teacher stages a split vote by hand
// with manual delivery, and a copied link reproduces it in a fresh browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from '../lib/index.mjs';
import { flightsPixel, inFreshBrowser, messageAt, node, select, status, snapshotOfPage } from './raftlab-page.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

/** Delivers the message of `kind` from `from` to `to` listed as waiting. */
async function deliver(page, from, to, kind) {
  const row = page.locator(`[data-testid="waiting-msg"][data-from="${from}"][data-to="${to}"][data-kind="${kind}"]`);
  const id = await row.first().getAttribute('data-id');
  await page.click(`[data-testid="deliver-${id}"]`);
  await page.locator(`[data-testid="waiting-msg"][data-id="${id}"]`).waitFor({ state: 'detached' });
}

/** Votes granted to `id`, as its tally shows them (its own included). */
const granted = (page, id) => page.locator(`[data-testid="ring-node-${id}"] .tally .vote.granted`).count();

test('a split vote staged by hand: two candidates with two votes each, no leader, nothing moving', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=3&paused=1&prevote=0' });
  await page.check('[data-testid="manual"]');
  assert.equal(await page.locator('[data-testid="manual-timers"]').isChecked(), false);
  for (const id of [1, 2]) {
    await select(page, id);
    await page.click('[data-testid="timeout"]');
  }
  // Each candidate's vote requests wait: eight in all.
  assert.equal(await page.locator('[data-testid="waiting-msg"][data-kind="request_vote"]').count(), 8);
  const line = await page.locator('[data-testid="waiting-msg"]').first().textContent();
  assert.match(line, /S1 → S2 · vote request · term 1 · last log 0@0/);

  await deliver(page, 1, 3, 'request_vote');
  await deliver(page, 2, 4, 'request_vote');
  await deliver(page, 3, 1, 'request_vote_resp');
  await deliver(page, 4, 2, 'request_vote_resp');
  assert.equal((await node(page, 1)).role, 'candidate');
  assert.equal((await node(page, 2)).role, 'candidate');
  assert.equal((await node(page, 1)).term, (await node(page, 2)).term);
  assert.equal(await granted(page, 1), 2);
  assert.equal(await granted(page, 2), 2);

  // A simulated second later nothing has moved by itself.
  const waiting = await page.locator('[data-testid="waiting-msg"]').count();
  await page.click('[data-testid="forward-1000"]');
  assert.equal((await status(page)).leader, '', 'no leader');
  assert.equal(await granted(page, 1), 2);
  assert.equal(await granted(page, 2), 2);
  assert.equal(await page.locator('[data-testid="waiting-msg"]').count(), waiting, 'no message arrived by itself');
  const here = await snapshotOfPage(page);

  await page.click('[data-testid="copy-link"]');
  const link = await page.locator('[data-testid="session-link"]').inputValue();
  assertNoProblems();
  await page.close();

  await inFreshBrowser(link, async (fresh) => {
    const there = await snapshotOfPage(fresh);
    assert.deepEqual(there.nodes, here.nodes, 'the same two candidates');
    assert.equal(await granted(fresh, 1), 2);
    assert.equal(await granted(fresh, 2), 2);
    assert.equal(await fresh.locator('[data-testid="manual"]').isChecked(), true, 'still delivering by hand');
    assert.equal(await fresh.locator('[data-testid="waiting-msg"]').count(), waiting);
  });
});

test('the ring shows what waits for the teacher: stopped timers, messages standing at their receivers; a click delivers one and the caption tells the move', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=3&paused=1&prevote=0&manual=1' });
  // Five voters, five stopped timers, each with its pause sign.
  assert.equal(await page.locator('[data-testid="timer-paused"]').count(), 5);
  await select(page, 1);
  await page.click('[data-testid="timeout"]');
  // Step: the vote requests travel to their receivers, and wait there.
  await page.click('[data-testid="step"]');
  const waiting = page.locator('[data-testid="msg"][data-waiting="true"]');
  assert.equal(await waiting.count(), 4, 'four vote requests wait');
  // Nothing else can move: a second step says what would.
  await page.click('[data-testid="step"]');
  assert.match(await page.locator('[data-testid="notice"]').textContent(), /Nothing moves by itself/);

  // The waiting request to S3 is drawn where the list says it stands, and
  // a click there delivers it.
  const id = await page.locator('[data-testid="msg"][data-from="1"][data-to="3"]').getAttribute('data-id');
  const at = await messageAt(page, id);
  const [, , , alpha] = await flightsPixel(page, at);
  assert.ok(alpha > 0, 'something is drawn where the waiting message stands');
  await page.mouse.click(at.x, at.y);
  await page.locator(`[data-testid="msg"][data-id="${id}"]`).waitFor({ state: 'detached' });
  assert.equal(await page.locator('[data-testid="waiting-msg"][data-from="3"][data-to="1"][data-kind="request_vote_resp"]').count(), 1,
    'S3 answered: its reply now waits at S1');
  // The caption tells the teacher's move and what it caused, from the
  // decisions made.
  const move = page.locator('[data-testid="caption-move"]');
  assert.match(await move.locator('.move').textContent(), new RegExp(`deliver message #${id}.*S1 → S3`));
  const caused = await move.locator('ol.caused').textContent();
  assert.match(caused, /S3 granted S1 its vote for term 1/);

  // A shift-click drops a waiting message instead.
  const other = await page.locator('[data-testid="msg"][data-from="1"][data-to="4"]').getAttribute('data-id');
  const at4 = await messageAt(page, other);
  await page.keyboard.down('Shift');
  await page.mouse.click(at4.x, at4.y);
  await page.keyboard.up('Shift');
  await page.locator(`[data-testid="msg"][data-id="${other}"]`).waitFor({ state: 'detached' });
  assert.match(await move.locator('.move').textContent(), new RegExp(`drop message #${other}`));
  assert.equal((await node(page, 4)).term, '0', 'S4 never heard of term 1');

  // Letting timers run takes the pause signs away.
  await page.check('[data-testid="manual-timers"]');
  assert.equal(await page.locator('[data-testid="timer-paused"]').count(), 0);
  assertNoProblems();
  await page.close();
});

test('a held link keeps its messages until released; then they arrive', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=3' });
  await page.waitForFunction(() => document.querySelector('[data-testid="status"]').dataset.leader !== '');
  await page.click('[data-testid="pause"]');
  const leader = (await status(page)).leader;
  const follower = leader === '1' ? '2' : '1';
  await page.selectOption('[data-testid="hold-from"]', leader);
  await page.selectOption('[data-testid="hold-to"]', follower);
  await page.click('[data-testid="hold"]');
  await page.click('[data-testid="forward-100"]');
  const held = page.locator(`[data-testid="waiting-msg"][data-from="${leader}"][data-to="${follower}"]`);
  assert.ok((await held.count()) >= 1, 'heartbeats wait on the held link');
  // The ring marks the link held and draws what waits on it standing still.
  assert.equal(await page.getAttribute(`[data-testid="link-${leader}-${follower}"]`, 'data-held'), 'true');
  assert.ok((await page.locator(`[data-testid="msg"][data-waiting="true"][data-from="${leader}"][data-to="${follower}"]`).count()) >= 1);
  await page.click(`[data-testid="release-${leader}-${follower}"]`);
  await page.click('[data-testid="step"]');
  await held.first().waitFor({ state: 'detached' });
  assert.equal(await page.locator('[data-testid="held-link"]').count(), 0);
  assertNoProblems();
  await page.close();
});

test('?manual=1 starts the run delivering by hand, with timers standing still', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=5&manual=1' });
  assert.equal(await page.locator('[data-testid="manual"]').isChecked(), true);
  await page.click('[data-testid="forward-1000"]');
  assert.equal((await status(page)).leader, '', 'no election without a timeout');
  assert.match(await page.locator('[data-testid="delivery-status"]').textContent(), /by hand/);
  assertNoProblems();
  await page.close();
});
