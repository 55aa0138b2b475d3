// Long and hostile text (issue 17): the client form refuses a key over 64
// or a value over 1,024 characters and says why, in words tied to the
// field; the longest put it accepts, and a session file carrying a
// 10,000-character value, leave the page exactly as wide as the window in
// both views: long text wraps or is cut with an ellipsis, whole on hover,
// and stays text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startApp } from '../lib/index.mjs';
import { clientResult, electLeader, leader, select, until } from './raftlab-page.mjs';

const KEY_LIMIT = 64;
const VALUE_LIMIT = 1024;
const VIEWPORTS = [
  [1440, 900],
  [1024, 768],
  [390, 844],
];

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

/** How wide the page is, and the window. */
async function widths(page) {
  return page.evaluate(() => ({ page: document.documentElement.scrollWidth, window: innerWidth }));
}

/** Asserts at every viewport size that the page does not scroll sideways. */
async function assertNoSidewaysScroll(page, what) {
  for (const [width, height] of VIEWPORTS) {
    await page.setViewportSize({ width, height });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const w = await widths(page);
    assert.ok(w.page <= w.window, `${what} at ${width}x${height}: the page is ${w.page} px wide in a ${w.window} px window`);
  }
  await page.setViewportSize({ width: 1440, height: 900 });
}

/** Waits until the latest client operation has an outcome; returns it. */
async function finished(page, button = 'forward-100') {
  return until(page, 'the put finishes', async () => {
    const r = await clientResult(page);
    return r.phase !== 'pending' && r.phase !== 'none' ? r : null;
  }, { button, max: 400 });
}

/** The feed's event texts that carry a hover title, and those titles. */
async function feedTitles(page) {
  return page.$$eval('[data-testid="event-feed"] .ev-text[title]', (els) =>
    els.map((e) => ({ shown: e.textContent, title: e.getAttribute('title') })));
}

test('a value or key over its limit is refused with the reason, named and tied to the field', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=3&paused=1' });
  await electLeader(page);
  const value = page.locator('[data-testid="client-value"]');
  const key = page.locator('[data-testid="client-key"]');
  await key.fill('x');
  await value.fill('v'.repeat(VALUE_LIMIT + 1));
  const reason = page.locator('[data-testid="client-value-limit"]');
  await reason.waitFor();
  assert.equal(
    (await reason.textContent()).trim(),
    '⚠ The value is 1,025 characters long; a value may have at most 1,024 characters.',
  );
  // Not only a colour: the field is marked invalid and described by the words.
  assert.equal(await value.getAttribute('aria-invalid'), 'true');
  const described = await value.getAttribute('aria-describedby');
  assert.equal(await page.locator(`#${described}`).textContent(), await reason.textContent());

  // Put is refused: nothing is sent, and the focus goes to the field.
  await page.click('[data-testid="put"]');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'client-value');
  await page.click('[data-testid="forward-100"]');
  assert.equal((await clientResult(page)).phase, 'none', 'no operation was sent');

  // Characters are counted, not bytes: 1,024 two-byte characters pass.
  await value.fill('é'.repeat(VALUE_LIMIT));
  await reason.waitFor({ state: 'detached' });
  assert.equal(await value.getAttribute('aria-invalid'), null);
  assert.equal(await value.getAttribute('aria-describedby'), null);

  await key.fill('k'.repeat(KEY_LIMIT + 1));
  const keyReason = page.locator('[data-testid="client-key-limit"]');
  await keyReason.waitFor();
  assert.match(await keyReason.textContent(), /key is 65 characters long; a key may have at most 64 characters/);
  assert.equal(await key.getAttribute('aria-describedby'), 'client-key-limit');
  await page.click('[data-testid="get"]');
  assert.equal((await clientResult(page)).phase, 'none', 'a get with an over-long key is refused too');
  await key.fill('k'.repeat(KEY_LIMIT));
  await keyReason.waitFor({ state: 'detached' });
  await page.click('[data-testid="put"]');
  assert.equal((await finished(page)).phase, 'ok', 'the longest key and value are accepted');
  assertNoProblems();
  await page.close();
});

test('the longest put the form accepts leaves the single-group page as wide as the window', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?seed=3&paused=1' });
  await page.setViewportSize({ width: 1440, height: 900 });
  const id = await electLeader(page);
  const long = 'v'.repeat(VALUE_LIMIT);
  await page.fill('[data-testid="client-key"]', 'k'.repeat(KEY_LIMIT));
  await page.fill('[data-testid="client-value"]', long);
  await page.click('[data-testid="put"]');
  const result = await finished(page);
  assert.equal(result.phase, 'ok');
  // The result is shown cut, whole on hover.
  assert.ok(result.text.length < 80, `the result is cut: ${result.text.length} characters`);
  assert.ok((await page.locator('[data-testid="client-result"]').getAttribute('title')).includes(long));
  // The feed quotes the put cut short, whole in the title.
  const titled = await feedTitles(page);
  assert.ok(titled.some((t) => t.title.includes(long) && t.shown.length < 300 && t.shown.includes('…')),
    'a feed sentence quotes the value cut, whole on hover');
  await page.click('[data-testid="forward-1000"]');
  await select(page, id);
  // The inspector's store holds it whole in the cell's title, as text.
  const cell = page.locator('[data-testid="kv"] td').nth(1);
  assert.equal(await cell.getAttribute('title'), long);
  await assertNoSidewaysScroll(page, 'the longest accepted put');
  await screenshot('longtext-single-1440');
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot('longtext-single-390');
  assertNoProblems();
  await page.close();
});

test('the longest put the form accepts leaves the sharded page as wide as the window', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({
    path: '?mode=sharded&paused=1&seed=3',
    ready: '[data-testid="client-key"]',
  });
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.click('[data-testid="forward-1000"]');
  // The same form, the same refusal.
  await page.fill('[data-testid="client-value"]', 'v'.repeat(VALUE_LIMIT + 1));
  assert.match(await page.locator('[data-testid="client-value-limit"]').textContent(), /at most 1,024 characters/);
  await page.click('[data-testid="put"]');
  assert.equal((await clientResult(page)).phase, 'none', 'no operation was sent');
  const long = 'v'.repeat(VALUE_LIMIT);
  await page.fill('[data-testid="client-key"]', 'k'.repeat(KEY_LIMIT));
  await page.fill('[data-testid="client-value"]', long);
  await page.click('[data-testid="put"]');
  const result = await finished(page, 'forward-10');
  assert.equal(result.phase, 'ok');
  assert.ok((await page.locator('[data-testid="client-result"]').getAttribute('title')).includes(long));
  await page.click('[data-testid="forward-1000"]');
  await assertNoSidewaysScroll(page, 'the longest accepted put, sharded');
  await screenshot('longtext-sharded-1440');
  assertNoProblems();
  await page.close();
});

test('a session file carrying a 10,000-character value loads and the page stays as wide as the window', async () => {
  // A session made here (a short put), then edited to carry what the form
  // refuses: a 10,000-character value under a 200-character key.
  const { page, assertNoProblems } = await app.open({ path: '?seed=5&paused=1' });
  await electLeader(page);
  await page.fill('[data-testid="client-key"]', 'x');
  await page.fill('[data-testid="client-value"]', '7');
  await page.click('[data-testid="put"]');
  await finished(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="download-session"]')]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raftlab-long-'));
  // A long file name too: the page names the file it opened.
  const file = path.join(dir, `long-${'n'.repeat(200)}.json`);
  await download.saveAs(file);
  const session = JSON.parse(fs.readFileSync(file, 'utf8'));
  const put = session.actions.find((a) => JSON.stringify(a).includes('"put"'));
  assert.ok(put, 'the put is in the session');
  const huge = '<b>' + 'w'.repeat(10_000 - 7) + '</b>';
  const bigKey = 'K'.repeat(200);
  const text = JSON.stringify(session).replace('"key":"x"', `"key":"${bigKey}"`).replace('"value":"7"', `"value":"${huge}"`);
  assert.notEqual(text, JSON.stringify(session), 'the edit found the put');
  fs.writeFileSync(file, text);
  assertNoProblems();
  await page.close();

  const { page: p2, assertNoProblems: ok2, screenshot } = await app.open({ path: '?seed=1&paused=1' });
  await p2.setViewportSize({ width: 1440, height: 900 });
  await p2.setInputFiles('[data-testid="open-session"]', file);
  await p2.waitForSelector('[data-testid="source"][data-kind="session file"]');
  const id = await leader(p2);
  assert.ok(id, 'the loaded run has a leader');
  await select(p2, id);
  // Loaded, not refused: the store holds it whole, shown as text (no <b>).
  const cells = p2.locator('[data-testid="kv"] td');
  assert.equal(await cells.nth(0).getAttribute('title'), bigKey);
  assert.equal(await cells.nth(1).getAttribute('title'), huge);
  assert.equal(await p2.locator('[data-testid="kv"] b').count(), 0, 'never HTML');
  const titled = await feedTitles(p2);
  assert.ok(titled.some((t) => t.title.includes(huge)), 'the feed has the value whole on hover');
  for (const t of titled) assert.ok(t.shown.length <= 300, `a feed sentence is cut: ${t.shown.length}`);
  await assertNoSidewaysScroll(p2, 'a session with a 10,000-character value');
  await screenshot('longtext-session-1440');
  ok2();
  await p2.close();
});

test('a trace carrying a 10,000-character value loads and the page stays as wide as the window', async () => {
  // A trace exported here after a put of a marker value, the marker then
  // replaced everywhere (the action and the entries that carry it).
  const { page, assertNoProblems } = await app.open({ path: '?seed=7&paused=1' });
  await electLeader(page);
  await page.fill('[data-testid="client-key"]', 'key');
  await page.fill('[data-testid="client-value"]', 'MARKER');
  await page.click('[data-testid="put"]');
  await finished(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-trace"]')]);
  const original = fs.readFileSync(await download.path(), 'utf8');
  assert.ok(original.includes('MARKER'), 'the trace carries the value as text');
  const huge = 'z'.repeat(10_000);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'raftlab-long-')), 'long.jsonl');
  fs.writeFileSync(file, original.replaceAll('MARKER', huge));
  assertNoProblems();
  await page.close();

  const { page: p2, assertNoProblems: ok2 } = await app.open({ path: '?paused=1' });
  await p2.setViewportSize({ width: 1440, height: 900 });
  await p2.setInputFiles('[data-testid="load-trace"]', file);
  const source = p2.locator('[data-testid="source"][data-kind="trace"]');
  await source.waitFor({ timeout: 30_000 });
  assert.equal(await source.getAttribute('data-match'), 'true', await source.textContent());
  await p2.click('[data-testid="forward-1000"]');
  const titled = await feedTitles(p2);
  assert.ok(titled.some((t) => t.title.includes(huge)), 'the feed has the value whole on hover');
  await assertNoSidewaysScroll(p2, 'a trace with a 10,000-character value');
  ok2();
  await p2.close();
});
