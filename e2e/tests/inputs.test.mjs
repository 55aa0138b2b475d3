// Every input has a clear answer (issue 17): each URL parameter either view
// reads, given a value the page cannot use, is named in a notice that says
// why and what runs instead, and the page runs with what the notice says;
// a mangled query runs the defaults and says what it did not read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from '../lib/index.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

/** The notices about the query, by parameter: { seed: 'text', ... }. */
async function urlNotices(page) {
  const list = await page.locator('[data-testid="url-notice"]').evaluateAll((els) =>
    els.map((e) => [e.dataset.param, e.textContent.replace(/×$/, '').trim()]),
  );
  return Object.fromEntries(list);
}

/** Asserts a notice about `param` that quotes it and says what runs instead. */
function assertNamed(notices, param, instead) {
  const text = notices[param];
  assert.ok(text, `a notice about ${param}: ${JSON.stringify(notices)}`);
  assert.ok(text.includes(`\`${param}`), `the notice names ${param}: ${text}`);
  if (instead) assert.match(text, instead, `${param}: ${text}`);
}

const input = (page, id) => page.locator(`[data-testid="${id}"]`);

test('every single-group parameter with an unusable value is named, and the page runs what the notice says', async () => {
  const query = [
    'seed=4x', 'nodes=1000', 'prevote=maybe', 'checkquorum=perhaps', 'snapshot_every=-1',
    'chunk=0', 'latency=0', 'speed=abc', 'paused=2', 'present=later', 'history=5',
    'lesson=', 'mode=shraded', 'sede=4', 'groups=2',
  ].join('&');
  const { page, assertNoProblems, screenshot } = await app.open({ path: `?${query}` });
  await page.waitForSelector('[data-testid="url-notice"]');
  const notices = await urlNotices(page);
  assertNamed(notices, 'seed', /not a whole number; running seed 1 instead/);
  assertNamed(notices, 'nodes', /above the maximum 9; running 9 nodes instead/);
  assertNamed(notices, 'prevote', /keeping PreVote on instead/);
  assertNamed(notices, 'checkquorum', /keeping CheckQuorum on instead/);
  assertNamed(notices, 'snapshot_every', /taking no snapshots instead/);
  assertNamed(notices, 'chunk', /below the minimum 1; sending snapshots in chunks of 1 byte instead/);
  assertNamed(notices, 'latency', /below the minimum 1; keeping latency up to 1 ms instead/);
  assertNamed(notices, 'speed', /not a number .*running at speed 0\.05 instead/);
  assertNamed(notices, 'paused', /playing instead/);
  assertNamed(notices, 'present', /not presenting instead/);
  assertNamed(notices, 'history', /below the minimum 1000; keeping 1000 events instead/);
  assertNamed(notices, 'lesson', /names no lesson/);
  assertNamed(notices, 'mode', /showing the single-group view instead/);
  assertNamed(notices, 'sede', /not a setting raftlab reads \(did you mean `seed`\?\)/);
  assertNamed(notices, 'groups', /a setting of sharded mode/);

  // What runs is what the notices say.
  const status = await input(page, 'status').evaluate((e) => ({ ...e.dataset, text: e.textContent }));
  assert.match(status.text, /seed 1 ·/);
  assert.equal(status.historyLimit, '1000');
  assert.equal(status.playing, 'true');
  await page.waitForSelector('[data-testid="node-9"]');
  assert.equal(await page.locator('[data-testid="node-10"]').count(), 0);
  assert.equal(await input(page, 'seed').inputValue(), '1');
  assert.equal(await input(page, 'nodes').inputValue(), '9');
  assert.equal(await input(page, 'latency-max').inputValue(), '1');
  assert.equal(await input(page, 'snapshot-every').inputValue(), '0');
  assert.equal(await input(page, 'chunk').inputValue(), '1');
  assert.equal(await input(page, 'prevote').isChecked(), true);
  assert.equal(await input(page, 'check-quorum').isChecked(), true);
  assert.equal(await input(page, 'present').getAttribute('aria-pressed'), 'false');
  // The speed slider is logarithmic, in steps of 0.05.
  assert.equal(Number(await input(page, 'speed').inputValue()).toFixed(1), Math.log10(0.05).toFixed(1));
  assert.equal(await page.locator('[data-testid="mode-switch"]').getAttribute('href'), '?mode=sharded');
  await screenshot('inputs-url-notices');

  // Each notice goes on its own, and the run goes on.
  const before = Object.keys(notices).length;
  await page.locator('[data-testid="url-notice"][data-param="sede"] button').click();
  assert.equal(await page.locator('[data-testid="url-notice"]').count(), before - 1);
  assert.equal(await page.locator('[data-testid="url-notice"][data-param="sede"]').count(), 0);
  assertNoProblems();
  await page.close();
});

test('a lesson the index does not list is named once the index is read', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?lesson=no-such-lesson&paused=1' });
  const notice = page.locator('[data-testid="url-notice"][data-param="lesson"]');
  await notice.waitFor();
  assert.match(await notice.textContent(), /`lesson=no-such-lesson` is not a lesson raftlab has/);
  assert.equal(await page.locator('[data-testid="lesson"][data-lesson]').count(), 0);
  assertNoProblems();
  await page.close();
});

test('every sharded parameter with an unusable value is named, and sharded mode runs what the notice says', async () => {
  const query = [
    'mode=sharded', 'seed=-3', 'nodes=0', 'groups=9', 'meta=abc', 'latency=0', 'speed=5',
    'paused=2', 'walk=maybe', 'present=1', 'lesson=split-vote', 'nodse=3',
  ].join('&');
  const { page, assertNoProblems, screenshot } = await app.open({ path: `?${query}` });
  await page.waitForSelector('[data-testid="url-notice"]');
  const notices = await urlNotices(page);
  assertNamed(notices, 'seed', /not a whole number; running seed 1 instead/);
  assertNamed(notices, 'nodes', /below the minimum 1; running 1 node per group instead/);
  assertNamed(notices, 'groups', /above the maximum 3; running 3 KV groups instead/);
  assertNamed(notices, 'meta', /not a whole number; running 3 meta nodes instead/);
  assertNamed(notices, 'latency', /keeping latency up to 1 ms instead/);
  assertNamed(notices, 'speed', /above the fastest speed 1; running at speed 1 instead/);
  assertNamed(notices, 'paused', /playing instead/);
  assertNamed(notices, 'walk', /showing the walkthrough instead/);
  assertNamed(notices, 'present', /single-group view; sharded mode does not read it/);
  assertNamed(notices, 'lesson', /single-group view; sharded mode does not read it/);
  assertNamed(notices, 'nodse', /did you mean `nodes`/);

  const status = await input(page, 'status').evaluate((e) => ({ ...e.dataset, text: e.textContent }));
  assert.match(status.text, /seed 1 ·/);
  assert.deepEqual(status.leaders.split(' ').map((kv) => kv.split('=')[0]), ['meta', 'g1', 'g2', 'g3']);
  assert.equal(status.playing, 'true');
  assert.equal(await input(page, 'sharded-seed').inputValue(), '1');
  assert.equal(await input(page, 'sharded-groups').inputValue(), '3');
  assert.equal(await input(page, 'sharded-nodes').inputValue(), '1');
  assert.equal(await page.locator('[data-testid="walkthrough"]').count(), 1);
  await screenshot('inputs-url-notices-sharded');
  assertNoProblems();
  await page.close();
});

test('a mangled query runs the defaults and says what it did not read', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?%%%&==&seed:4;nodes=3&&=5&paused=1' });
  await page.waitForSelector('[data-testid="url-notice"]');
  const params = await page
    .locator('[data-testid="url-notice"]')
    .evaluateAll((els) => els.map((e) => e.dataset.param));
  assert.deepEqual(params, ['query', 'query', '%%%', 'seed:4;nodes']);
  const texts = await page.locator('[data-testid="url-notice"]').allTextContents();
  assert.match(texts[0], /has no parameter name/);
  assert.match(texts[3], /`seed:4;nodes` is not a setting raftlab reads; ignored/);
  // The defaults: seed 1, five nodes.
  assert.match(await input(page, 'status').textContent(), /seed 1 ·/);
  assert.equal(await page.locator('[data-testid="node-5"]').count(), 1);
  assert.equal(await page.locator('[data-testid="node-6"]').count(), 0);
  assertNoProblems();
  await page.close();
});

test('a good query gives no notice', async () => {
  const { page, assertNoProblems } = await app.open({
    path: '?seed=4&nodes=3&prevote=0&checkquorum=1&snapshot_every=20&chunk=64&latency=40&speed=0.1&paused=1&history=5000',
  });
  assert.equal(await page.locator('[data-testid="url-notice"]').count(), 0);
  assert.equal(await input(page, 'prevote').isChecked(), false);
  assert.equal((await input(page, 'status').getAttribute('data-history-limit')), '5000');
  assertNoProblems();
  await page.close();
});
