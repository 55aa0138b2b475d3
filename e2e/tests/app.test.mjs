// The app loads cleanly and draws the cluster.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { startApp } from '../lib/index.mjs';

const VOTERS = [1, 2, 3, 4, 5];

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

test('the page loads without console errors or failed requests', async () => {
  const { page, assertNoProblems } = await app.open();
  await page.waitForLoadState('networkidle');
  assert.equal(await page.title(), 'raftlab');
  assert.equal((await page.locator('h1').textContent()).trim(), 'raftlab');
  assertNoProblems();
  await page.close();
});

test('renders one node per voter, S1 to S5, each a live follower in term 0', async () => {
  // Paused, so the clock cannot start an election before the check.
  const { page, assertNoProblems } = await app.open({ path: '?paused=1' });
  assert.equal(await page.locator('[data-testid^="node-"]').count(), VOTERS.length);
  for (const id of VOTERS) {
    const node = page.locator(`[data-testid="node-${id}"]`);
    assert.equal(await node.count(), 1, `node-${id} is drawn once`);
    assert.ok(await node.isVisible(), `node-${id} is visible`);
    assert.equal(await node.getAttribute('data-role'), 'follower');
    assert.equal(await node.getAttribute('data-term'), '0');
    assert.equal(await node.getAttribute('data-alive'), 'true');
    assert.equal(await node.getAttribute('data-commit'), '0');
  }
  const labels = await page.locator('svg .node .label').allTextContents();
  assert.deepEqual(labels, VOTERS.map((id) => `S${id}`));
  assertNoProblems();
  await page.close();
});

test('the nodes sit apart on a ring, S1 at the top', async () => {
  const { page } = await app.open();
  const boxes = [];
  for (const id of VOTERS) boxes.push(await page.locator(`[data-testid="node-${id}"]`).boundingBox());
  const centres = boxes.map((b) => ({ x: b.x + b.width / 2, y: b.y + b.height / 2 }));
  const topmost = centres.reduce((best, c, i) => (c.y < centres[best].y ? i : best), 0);
  assert.equal(topmost, 0, 'S1 is the topmost node');
  for (let i = 0; i < centres.length; i++) {
    for (let j = i + 1; j < centres.length; j++) {
      const d = Math.hypot(centres[i].x - centres[j].x, centres[i].y - centres[j].y);
      assert.ok(d > boxes[i].width, `S${i + 1} and S${j + 1} do not overlap (${d.toFixed(0)}px apart)`);
    }
  }
  await page.close();
});

test('a screenshot of the cluster is written under target/e2e/', async () => {
  const { page, screenshot } = await app.open();
  await page.waitForLoadState('networkidle');
  const file = await screenshot('cluster');
  assert.match(file, /target[\\/]e2e[\\/]cluster\.png$/);
  const png = await fs.readFile(file);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.ok(png.length > 10_000, `screenshot has content (${png.length} bytes)`);
  await page.close();
});
