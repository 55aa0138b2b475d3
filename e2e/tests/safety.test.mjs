// The live checker: with a deliberate bug switched on, the violation
// stops the clock, and the safety panel points at the event.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from '../lib/index.mjs';
import { status } from './raftlab-page.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

test('a deliberate bug is caught: the clock stops at the violation', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?seed=6&paused=1&speed=1' });
  // The bug: a prevote request makes its receiver adopt the asked-for term.
  await page.selectOption('[data-testid="bug"]', 'prevote-raises-term');
  await page.click('[data-testid="reset"]');
  assert.equal(await page.locator('[data-testid="safety"]').getAttribute('data-status'), 'ok');
  // Play until the checker objects; it stops the clock by itself.
  await page.click('[data-testid="play"]');
  await page.waitForSelector('[data-testid="safety"][data-status="violated"]', { timeout: 60_000 });
  await page.waitForSelector('[data-testid="status"][data-playing="false"]');
  const notice = await page.locator('[data-testid="notice"]').textContent();
  assert.match(notice, /Safety violation/);
  const stoppedAt = Number(notice.match(/event #(\d+)/)[1]);
  assert.equal(Number((await status(page)).position) >= stoppedAt, true, 'the clock stopped at the violating event');
  const item = page.locator('[data-testid^="violation-"]').first();
  const seq = (await item.getAttribute('data-testid')).slice('violation-'.length);
  await item.click();
  const s = await status(page);
  assert.ok(Number(s.position) >= Number(seq), `the clock is at the violating event #${seq} (position ${s.position})`);
  await screenshot('safety-violation');
  assertNoProblems();
  await page.close();
});
