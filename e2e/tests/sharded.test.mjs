// Sharded mode (?mode=sharded): a slot moves while the source group's
// leader is crashed; afterwards writes and a read of keys in that slot
// succeed at the new owner, and the slot strip shows the new owner.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from '../lib/index.mjs';
import { until } from './raftlab-page.mjs';
import { moduleFiles } from './modules.mjs';

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

test('hold a link inside any group: its messages wait at the receiver until released, then arrive', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?mode=sharded&paused=1&seed=7&groups=2&walk=0' });
  await until(page, 'every group has a leader', async () => Object.values(await leaders(page)).every((v) => v));
  const g2 = (await leaders(page)).g2;
  const follower = ['21', '22', '23'].find((id) => id !== g2);
  await page.selectOption('[data-testid="hold-from"]', g2);
  // The receiver list offers the sender's group only.
  const offered = await page.locator('[data-testid="hold-to"] option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(offered.sort(), ['21', '22', '23'].filter((id) => id !== g2).sort());
  await page.selectOption('[data-testid="hold-to"]', follower);
  await page.click('[data-testid="hold"]');
  assert.equal(await attr(page, `link-${g2}-${follower}`, 'held'), 'true');
  await page.click('[data-testid="forward-100"]');
  const waiting = page.locator(`[data-testid="msg"][data-waiting="true"][data-from="${g2}"][data-to="${follower}"]`);
  assert.ok((await waiting.count()) >= 1, "the leader's heartbeats wait on the held link");
  const row = page.locator('[data-testid="held-link"]');
  assert.ok(Number(await row.getAttribute('data-waiting')) >= 1);
  assert.match(await row.textContent(), new RegExp(`g2: S${g2} → S${follower} held`));
  await page.click(`[data-testid="release-${g2}-${follower}"]`);
  assert.equal(await row.count(), 0);
  assert.equal(await waiting.count(), 0, 'what waited arrived on release');
  assertNoProblems();
  await page.close();
});

/** The names of the files a page requests from now on (the last part of each URL's path). */
function fetched(page) {
  const names = [];
  page.on('request', (r) => names.push(new URL(r.url()).pathname.split('/').pop()));
  return names;
}

// Named after their content (modules.mjs).
const { js: SHARDED_JS, wasm: SHARDED_WASM } = moduleFiles('sharded-app');
const SHARDED_MODULE = [SHARDED_JS, SHARDED_WASM];

test('sharded mode is a module of its own: fetched for ?mode=sharded only; the mode link switches both ways', async () => {
  const seen = app.server.requests.length;
  const { page, assertNoProblems } = await app.open({ path: '?paused=1' });
  // A whole load of the single-group page, watched from its first request.
  let names = fetched(page);
  await page.reload();
  await page.waitForSelector('[data-testid="node-5"]');
  await page.waitForLoadState('networkidle');
  assert.ok(names.some((n) => /^raftlab-web-.*\.wasm$/.test(n)), `the page's own module: ${names.join(' ')}`);
  assert.ok(!names.some((n) => SHARDED_MODULE.includes(n)), names.join(' '));
  const asked = app.server.requests.slice(seen).filter((r) => /sharded-app/.test(r.path));
  assert.deepEqual(asked, [], 'the single-group page never asks for the sharded module');
  assert.equal(await page.locator('[data-testid="group-meta"]').count(), 0);

  // To sharded mode by its link: the module is fetched, started, and the loading note goes.
  names = fetched(page);
  await page.click('[data-testid="mode-switch"]');
  await page.waitForSelector('[data-testid="group-meta"]');
  for (const f of SHARDED_MODULE) assert.ok(names.includes(f), `${f} fetched: ${names.join(' ')}`);
  await page.waitForSelector('[data-testid="mode-loading"]', { state: 'detached' });
  assert.equal(await page.locator('[data-testid="mode-switch"]').getAttribute('href'), '?');

  // And back: the single-group view, without the sharded module.
  names = fetched(page);
  await page.click('[data-testid="mode-switch"]');
  await page.waitForSelector('[data-testid="node-5"]');
  await page.waitForLoadState('networkidle');
  assert.equal(await page.locator('[data-testid="group-meta"]').count(), 0);
  assert.ok(!names.some((n) => SHARDED_MODULE.includes(n)), names.join(' '));
  assert.equal(await page.locator('[data-testid="mode-switch"]').getAttribute('href'), '?mode=sharded');
  assertNoProblems();
  await page.close();
});

test('sharded mode says so while its module loads, and why it could not if it fails', async () => {
  // Held: the module's wasm is answered only once the loading note was seen.
  const { page: slow, screenshot: shoot } = await app.open({ path: '', ready: null });
  let release;
  const held = new Promise((resolve) => (release = resolve));
  await slow.route(`**/${SHARDED_WASM}`, async (route) => {
    await held;
    await route.continue();
  });
  await slow.goto(`${app.url}?mode=sharded&paused=1`);
  const note = slow.locator('[data-testid="mode-loading"]');
  await note.waitFor();
  assert.match(await note.textContent(), /Loading sharded mode/);
  await shoot('sharded-loading');
  release();
  await slow.waitForSelector('[data-testid="group-meta"]');
  await note.waitFor({ state: 'detached' });
  await slow.close();

  // Failed: the note turns into an error naming the cause, with the way back.
  const { page, screenshot } = await app.open({ path: '', ready: null });
  await page.route(`**/${SHARDED_WASM}`, (route) => route.fulfill({ status: 404, body: 'gone' }));
  await page.goto(`${app.url}?mode=sharded&paused=1`);
  const failed = page.locator('[data-testid="mode-loading"][data-failed="true"]');
  await failed.waitFor();
  assert.match(await failed.textContent(), /Could not load sharded mode: .+/);
  await screenshot('sharded-load-failed');
  assert.equal(await page.locator('[data-testid="group-meta"]').count(), 0);
  await page.click('[data-testid="mode-switch"]');
  await page.waitForSelector('[data-testid="node-5"]');
  await page.close();
});

test('membership inside a group: add a learner to g1, promote it, remove g1\'s leader; writes still succeed and the feed tells it', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?mode=sharded&paused=1&seed=11&walk=0' });
  await until(page, 'every group has a leader', async () => Object.values(await leaders(page)).every((v) => v));
  // A key of g1 (the bootstrap table gives g1 slots 0..511 of two groups); the page agrees.
  const g1Key = ['apple', ...Array.from({ length: 50 }, (_, i) => `k${i}`)].find((k) => slotOf(k) < 512);
  await page.fill('[data-testid="key-lookup"]', g1Key);
  assert.equal((await page.locator('[data-testid="key-owner"]').textContent()).trim(), 'g1');
  const first = await clientOp(page, 'put', g1Key, 'one');
  assert.equal(first.phase, 'ok', first.text);

  // Add a learner to g1 from the membership controls (the group follows the selected node).
  const g1Leader = (await leaders(page)).g1;
  await page.locator(`[data-testid="node-${g1Leader}"]`).click();
  assert.equal(await attr(page, 'membership', 'group'), 'g1');
  assert.match(await page.locator('[data-testid="add-learner"]').textContent(), /Add S14 to g1 as learner/);
  await page.click('[data-testid="add-learner"]');
  await page.waitForSelector('[data-testid="node-14"]');
  assert.equal(await attr(page, 'node-14', 'group'), 'g1', 'the new node is drawn in g1\'s ring');
  assert.equal(await attr(page, 'node-14', 'selected'), 'true');
  await until(page, 'S14 is g1\'s learner and the meta group records it', async () =>
    (await attr(page, 'node-14', 'member')) === 'learner' &&
    (await attr(page, 'member-config', 'pending')) === 'false' &&
    (await attr(page, 'member-record', 'members')) === '11,12,13,14');
  await screenshot('sharded-learner');

  // Promote it.
  await page.click('[data-testid="promote"]');
  await until(page, 'S14 votes in g1, committed', async () =>
    (await attr(page, 'node-14', 'member')) === 'voter' && (await attr(page, 'member-config', 'pending')) === 'false');
  assert.match(await page.locator('[data-testid="member-config"]').textContent(), /voters S11 S12 S13 S14/);

  // Remove g1's leader: it steps down, another node leads, the meta record follows.
  await page.locator(`[data-testid="node-${g1Leader}"]`).click();
  await page.click('[data-testid="remove"]');
  assert.equal(await page.locator('[data-testid="notice"].error').count(), 0, 'the removal was taken');
  const next = await until(page, 'g1 has another leader', async () => {
    const l = (await leaders(page)).g1;
    return l && l !== g1Leader ? l : null;
  });
  assert.equal(await attr(page, `node-${next}`, 'group'), 'g1');
  assert.equal(await attr(page, `node-${g1Leader}`, 'member'), 'removed');
  const rest = ['11', '12', '13', '14'].filter((n) => n !== g1Leader).join(',');
  await until(page, 'the meta group records g1 without its old leader', async () =>
    (await attr(page, 'member-record', 'members')) === rest);

  // Writes to g1's keys still succeed, and a read sees the latest.
  const w = await clientOp(page, 'put', g1Key, 'two');
  assert.equal(w.phase, 'ok', w.text);
  const r = await clientOp(page, 'get', g1Key);
  assert.equal(r.phase, 'ok', r.text);
  assert.match(r.text, /→ two/);
  assert.equal(await attr(page, 'checker', 'safe'), 'true');

  // The feed tells each step with its group, and picking an event selects its node and goes there.
  const feed = page.locator('[data-testid="event-feed"]');
  for (const needle of ['add a new node S14 to g1 as a learner', 'make S14 a voter of g1', `remove S${g1Leader} from its group`, 'record g1\'s members']) {
    assert.ok((await feed.getByText(needle).count()) >= 1, `feed says ${needle}`);
  }
  const removal = feed.locator('button[data-group="g1"]', { hasText: `remove S${g1Leader}` }).first();
  assert.equal(await removal.locator('.gtag').textContent(), 'g1');
  const before = Number((await status(page)).position);
  await removal.click();
  await page.waitForSelector(`[data-testid="node-${g1Leader}"][data-selected="true"]`);
  const there = Number((await status(page)).position);
  assert.ok(there < before, `the clock went back (${there} < ${before})`);
  assert.equal((await status(page)).inPast, 'true');
  assert.equal(await attr(page, `node-${g1Leader}`, 'role'), 'leader', 'just after the action it still leads');
  assert.ok(await page.locator('[data-testid="future"]').isVisible());
  // Stepping forward and back is exact: the position moves event by event.
  await page.click('[data-testid="step"]');
  const stepped = Number((await status(page)).position);
  assert.ok(stepped > there);
  await page.click('[data-testid="step-back"]');
  assert.equal(Number((await status(page)).position), there);
  // Only g1's events when filtered.
  await page.selectOption('[data-testid="feed-group"]', 'g1');
  const groups = await feed.locator('button[data-group]').evaluateAll((bs) => [...new Set(bs.map((b) => b.dataset.group))]);
  assert.ok(groups.every((g) => g === 'g1' || g === 'all'), groups.join());
  await page.selectOption('[data-testid="feed-group"]', '');
  await screenshot('sharded-membership');
  assertNoProblems();
  await page.close();
});
