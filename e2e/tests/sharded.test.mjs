// Sharded mode (?mode=sharded): a slot moves while the source group's
// leader is crashed; afterwards writes and a read of keys in that slot
// succeed at the new owner, and the slot strip shows the new owner.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from '../lib/index.mjs';
import { until } from './raftlab-page.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

/** The slot of a key, as `raftlab_core::meta::slot_of` computes it: 64-bit FNV-1a mod 1024. */
function slotOf(key) {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(key)) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return Number(h % 1024n);
}

async function status(page) {
  return page.locator('[data-testid="status"]').evaluate((e) => ({ ...e.dataset }));
}

/** Leader of every group, by name ('' when none). */
async function leaders(page) {
  const text = (await status(page)).leaders;
  return Object.fromEntries(text.split(' ').map((kv) => kv.split('=')));
}

async function attr(page, testid, name) {
  return page.locator(`[data-testid="${testid}"]`).getAttribute(`data-${name}`);
}

async function clientOp(page, op, key, value = '') {
  await page.fill('[data-testid="client-key"]', key);
  await page.fill('[data-testid="client-value"]', value);
  await page.click(`[data-testid="${op}"]`);
  return until(page, `${op} ${key} finishes`, async () => {
    const el = page.locator('[data-testid="client-result"]');
    const phase = await el.getAttribute('data-phase');
    return phase !== 'pending' && phase !== 'none' ? { phase, text: (await el.textContent()).trim() } : null;
  }, { button: 'forward-10', max: 400 });
}

test('slot-to-key routing matches the page', () => {
  // A sanity check of the helper against the page's own lookup (below).
  assert.equal(slotOf(''), Number(0xcbf29ce484222325n % 1024n));
});

test('move a slot while the source leader is crashed; writes to it succeed after the move', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?mode=sharded&paused=1&seed=3' });
  assert.equal(await page.locator('[data-testid="mode-switch"]').getAttribute('href'), '?');
  for (const g of ['meta', 'g1', 'g2']) {
    assert.equal(await page.locator(`[data-testid="group-${g}"]`).count(), 1, `ring ${g} drawn`);
  }
  assert.equal(await page.locator('[data-testid^="slot-"][data-owner]').count(), 1024, 'every slot is in the strip');
  assert.equal(await attr(page, 'node-11', 'group'), 'g1');

  // Every group elects its own leader.
  const elected = await until(page, 'every group has a leader', async () => {
    const l = await leaders(page);
    return Object.values(l).every((v) => v) ? l : null;
  });
  for (const [g, id] of Object.entries(elected)) {
    assert.equal(await attr(page, `node-${id}`, 'role'), 'leader', `S${id} leads ${g}`);
    assert.equal(await attr(page, `node-${id}`, 'group'), g);
  }

  // Write a key; look up its slot and owner.
  const key = 'apple';
  const first = await clientOp(page, 'put', key, 'red');
  assert.equal(first.phase, 'ok', first.text);
  await page.fill('[data-testid="key-lookup"]', key);
  const slot = Number(await page.locator('[data-testid="key-slot"]').textContent());
  assert.equal(slot, slotOf(key), 'the page and the test agree on the slot');
  const from = (await page.locator('[data-testid="key-owner"]').textContent()).trim();
  assert.equal(await attr(page, `slot-${slot}`, 'owner'), from);
  const to = from === 'g1' ? 'g2' : 'g1';
  assert.match(await page.locator('[data-testid="client-route"]').textContent(), new RegExp(`slot ${slot} → ${from}`));

  // Crash the source group's leader.
  const victim = await attr(page, `group-${from}`, 'leader');
  assert.ok(victim, `${from} has a leader`);
  await page.locator(`[data-testid="node-${victim}"]`).click();
  await page.waitForSelector(`[data-testid="node-${victim}"][data-selected="true"]`);
  await page.click('[data-testid="crash"]');
  assert.equal(await attr(page, `node-${victim}`, 'alive'), 'false');

  // Move the slot while the source has no leader.
  assert.equal(await attr(page, `group-${from}`, 'leader'), '', `${from} is leaderless`);
  await page.fill('[data-testid="move-slot-slot"]', String(slot));
  await page.selectOption('[data-testid="move-slot-to"]', to);
  await page.click('[data-testid="move-slot"]');
  const mig = page.locator('[data-testid^="migration-"]').first();
  const migId = (await mig.getAttribute('data-testid')).slice('migration-'.length);
  assert.equal(await mig.getAttribute('data-phase'), 'freeze', 'the freeze waits for a new leader');
  assert.equal(await mig.getAttribute('data-from'), from);
  assert.equal(await mig.getAttribute('data-to'), to);
  assert.equal(await attr(page, `moving-${slot}`, 'phase'), 'freeze', 'the strip marks the slot as moving');

  // Watch it pass through its phases; screenshot it mid-way.
  const seen = new Set(['freeze']);
  let shot = false;
  await until(page, 'the migration finishes', async () => {
    const phase = await attr(page, `migration-${migId}`, 'phase');
    seen.add(phase);
    if (!shot && (phase === 'import' || phase === 'record')) {
      await screenshot('sharded-moving');
      shot = true;
    }
    return phase === 'done';
  }, { button: 'forward-10', max: 600 });
  assert.ok(seen.size >= 3, `phases seen: ${[...seen].join(', ')}`);
  const newLeader = await attr(page, `group-${from}`, 'leader');
  assert.ok(newLeader && newLeader !== victim, `${from} elected a new leader (S${newLeader})`);

  // The strip, the lookup and the slot query show the new owner.
  assert.equal(await attr(page, `slot-${slot}`, 'owner'), to);
  assert.equal((await page.locator('[data-testid="key-owner"]').textContent()).trim(), to);
  await page.fill('[data-testid="slot-query"]', String(slot));
  assert.equal((await page.locator('[data-testid="slot-owner"]').textContent()).trim(), to);

  // Writes to keys of that slot, and a read, succeed at the new owner.
  let other = null;
  for (let i = 0; i < 200000 && !other; i++) if (slotOf(`k${i}`) === slot) other = `k${i}`;
  assert.ok(other, 'another key in the same slot');
  for (const [k, v] of [[key, 'green'], [other, 'blue']]) {
    const put = await clientOp(page, 'put', k, v);
    assert.equal(put.phase, 'ok', put.text);
    assert.match(await page.locator('[data-testid="client-route"]').textContent(), new RegExp(`slot ${slot} → ${to}`));
  }
  const read = await clientOp(page, 'get', key);
  assert.equal(read.phase, 'ok', read.text);
  assert.match(read.text, /→ green/);
  assert.match(await page.locator('[data-testid="client-route"]').textContent(), new RegExp(`→ ${to}`));

  // The checkers agree: every group safe, every key linearizable.
  assert.equal(await attr(page, 'checker', 'safe'), 'true');
  assert.equal(await attr(page, `check-key-${key}`, 'status'), 'ok');
  await screenshot('sharded-after-move');
  assertNoProblems();
  await page.close();
});

test('the walkthrough runs from its first step to its last', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?mode=sharded&paused=1&seed=5' });
  const steps = await page.locator('.walk-panel .dot').count();
  assert.ok(steps >= 5 && steps <= 8, `${steps} steps`);
  for (let n = 1; n <= steps; n++) {
    assert.equal(await attr(page, 'walk-step', 'step'), String(n));
    const actions = await page.locator('[data-testid^="walk-action-"]').count();
    for (let i = 0; i < actions; i++) {
      await page.click(`[data-testid="walk-action-${i}"]`);
      await page.click('[data-testid="forward-10"]');
    }
    await until(page, `step ${n}'s condition holds`, async () => (await attr(page, 'walk-step', 'done')) === 'true');
    if (n === 4) await screenshot('sharded-walkthrough');
    if (n < steps) await page.click('[data-testid="walk-next"]');
  }
  assert.equal(await attr(page, 'checker', 'safe'), 'true');
  assertNoProblems();
  await page.close();
});

test('node and network actions work on any group; the mode switch goes back', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?mode=sharded&paused=1&seed=7&groups=3' });
  assert.equal(await page.locator('[data-testid="group-g3"]').count(), 1);
  await until(page, 'every group has a leader', async () => Object.values(await leaders(page)).every((v) => v));
  // Partition g2 away from everything else, then heal.
  await page.click('[data-testid="part-group-g2"]');
  await page.click('[data-testid="partition"]');
  assert.match(await page.locator('[data-testid="network-status"]').textContent(), /partitioned/);
  assert.match(await page.locator('[data-testid="network-status"]').textContent(), /2 sides/);
  assert.equal(await attr(page, 'link-21-22', 'up'), 'true', 'g2 still talks to itself');
  assert.equal((await page.locator('[data-testid="side-g2"]').textContent()).trim(), 'side B');
  assert.equal((await page.locator('[data-testid="side-g1"]').textContent()).trim(), 'side A');
  await page.click('[data-testid="forward-100"]');
  await screenshot('sharded-three-groups');
  await page.click('[data-testid="heal"]');
  assert.match(await page.locator('[data-testid="network-status"]').textContent(), /healthy/);
  // Timeout a follower of the meta group: it campaigns.
  const metaLeader = (await leaders(page)).meta;
  const follower = ['1', '2', '3'].find((id) => id !== metaLeader);
  await page.locator(`[data-testid="node-${follower}"]`).click();
  const before = Number(await attr(page, `node-${follower}`, 'term'));
  await page.click('[data-testid="timeout"]');
  assert.ok(Number(await attr(page, `node-${follower}`, 'term')) >= before);
  // A refused move says why instead of failing silently.
  await page.fill('[data-testid="move-slot-slot"]', '5000');
  await page.click('[data-testid="move-slot"]');
  assert.match(await page.locator('[data-testid="notice"]').textContent(), /0 to 1023/);
  await page.click('[data-testid="mode-switch"]');
  await page.waitForSelector('[data-testid="node-1"]');
  assert.equal(await page.locator('[data-testid="group-meta"]').count(), 0, 'back in single-group mode');
  assert.equal(await page.locator('[data-testid="mode-switch"]').getAttribute('href'), '?mode=sharded');
  assertNoProblems();
  await page.close();
});
