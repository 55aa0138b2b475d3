// The network by hand: cut and restore one direction of a link, drop a
// message in flight, change latency and loss; and jump to an event from
// the feed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from '../lib/index.mjs';
import { electLeader, flightsPixel, messageAt, nodeIds, status, until } from './raftlab-page.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

async function setRange(page, testid, value) {
  await page.locator(`[data-testid="${testid}"]`).evaluate((el, v) => {
    el.value = String(v);
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, value);
}

test('cutting one direction, dropping a message, latency and loss', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?seed=8&paused=1' });
  const lead = await electLeader(page);
  const other = (await nodeIds(page)).find((id) => id !== lead);

  const link = page.locator(`[data-testid="link-${lead}-${other}"]`);
  await link.locator('.hit').click({ force: true });
  assert.equal(await link.getAttribute('data-up'), 'false', `S${lead} → S${other} is cut`);
  assert.equal(await page.locator(`[data-testid="link-${other}-${lead}"]`).getAttribute('data-up'), 'true', 'the other direction is up');
  await until(page, `a message S${lead} → S${other} is dropped at the cut`, async () =>
    (await page.locator(`[data-testid="dropped"]`).count()) > 0, { button: 'forward-10' });
  await link.locator('.hit').click({ force: true });
  assert.equal(await link.getAttribute('data-up'), 'true', 'restored');

  const msg = await until(page, 'a message in flight', async () => {
    const m = page.locator('[data-testid="msg"]').first();
    return (await page.locator('[data-testid="msg"]').count()) > 0 ? m : null;
  }, { button: 'forward-10' });
  const id = await msg.getAttribute('data-id');
  // The messages are painted on a canvas: the message is there, its title
  // shows on hover, and a click there (not on the node or link beneath) drops it.
  const at = await messageAt(page, id);
  assert.ok((await flightsPixel(page, at))[3] > 0, `message #${id} is painted where its lane puts it`);
  await page.mouse.move(at.x, at.y);
  assert.match(await page.locator('[data-testid="flights"]').getAttribute('title'), new RegExp(`^#${id} S\\d+ → S\\d+: .*click to drop it`));
  const selectedBefore = await page.locator('[data-selected="true"]').count();
  await page.mouse.click(at.x, at.y);
  assert.equal(await page.locator(`[data-testid="msg"][data-id="${id}"]`).count(), 0, `message #${id} was dropped`);
  assert.equal(await page.locator('[data-selected="true"]').count(), selectedBefore, 'the click did not reach a node');
  assert.ok((await page.locator('[data-testid="dropped"]').count()) > 0);

  await setRange(page, 'latency', 100);
  await setRange(page, 'loss', 20);
  assert.equal(await page.locator('[data-testid="notice"]').count(), 0);
  assert.match(await page.locator('.network-panel').textContent(), /latency 20–100 ms.*loss 20%/s);
  await page.click('[data-testid="forward-100"]');
  await screenshot('network');
  assertNoProblems();
  await page.close();
});

test('clicking an event in the feed moves the clock there', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=8&paused=1' });
  await electLeader(page);
  await page.click('[data-testid="forward-1000"]');
  const items = page.locator('[data-testid="event-feed"] [data-testid^="event-"]');
  const target = items.nth(8);
  const seq = Number((await target.getAttribute('data-testid')).slice('event-'.length));
  await target.click();
  const s = await status(page);
  assert.ok(Number(s.position) >= seq, `at or just after event #${seq} (position ${s.position})`);
  assert.equal(s.inPast, 'true');
  assertNoProblems();
  await page.close();
});
