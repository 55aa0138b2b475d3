// A first visit: one line of guidance in the single-group view, remembered
// once dismissed, never shown when a link or a lesson opened the page.
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

test('a first visit is greeted once; dismissed, it stays away', async () => {
  const { page, assertNoProblems } = await app.open({ path: '' });
  // Each test's tab starts from the browser's shared storage: clear it.
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.waitForSelector('[data-testid="node-1"]');
  const bar = page.locator('[data-testid="first-visit"]');
  await bar.waitFor();
  const text = await bar.textContent();
  assert.match(text, /start with lesson 1/);
  assert.match(text, /\? for the keyboard keys/);
  await page.click('[data-testid="first-visit-dismiss"]');
  assert.equal(await bar.count(), 0);
  await page.reload();
  await page.waitForSelector('[data-testid="node-1"]');
  assert.equal(await page.locator('[data-testid="first-visit"]').count(), 0, 'remembered');
  assertNoProblems();
  await page.close();
});

test('no greeting when a link or a lesson opened the page; Start lesson 1 starts it', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=4' });
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.waitForSelector('[data-testid="node-1"]');
  assert.equal(await page.locator('[data-testid="first-visit"]').count(), 0, 'a link');
  await page.goto(page.url().replace(/\?.*$/, ''));
  await page.waitForSelector('[data-testid="first-visit-lesson"]');
  await page.click('[data-testid="first-visit-lesson"]');
  await page.waitForSelector('[data-testid="lesson"][data-lesson="leader-election"]');
  assert.equal(await page.locator('[data-testid="first-visit"]').count(), 0, 'gone once the lesson starts');
  assertNoProblems();
  await page.close();
});
