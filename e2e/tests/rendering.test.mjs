// The page redraws only what changed: with hundreds of messages in flight
// the ring moves on every frame, while the panels that follow the
// simulator's events are redrawn less often, at most one of them per frame
// (the space-time diagram and the logs at most every 100 ms of wall time,
// the feed every 33 ms in small batches: see the native tests in
// web/src/state/tests.rs), and nothing is redrawn while the clock stands
// still. Counts of DOM changes per frame, not times.
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

/**
 * Over `n` animation frames: how many frames changed each part of the page,
 * and (`most`) the most DOM changes (mutation records) one frame made in it.
 */
function framesChanging(page, n) {
  return page.evaluate(
    (n) =>
      new Promise((resolve) => {
        const parts = {
          // The canvas of messages and timers (its data-vt follows the
          // clock), and the SVG of nodes and links beneath it.
          ring: '[data-testid="flights"]',
          nodes: 'svg.cluster',
          spacetime: '[data-testid="spacetime"]',
          logs: '.logs-row',
          feed: '[data-testid="event-feed"]',
        };
        const touched = new Set();
        // DOM changes (mutation records) per frame, the most in one frame.
        const records = {};
        const most = { ring: 0, nodes: 0, spacetime: 0, logs: 0, feed: 0 };
        const observers = Object.entries(parts).map(([name, sel]) => {
          const el = document.querySelector(sel);
          const o = new MutationObserver((recs) => {
            touched.add(name);
            records[name] = (records[name] || 0) + recs.length;
          });
          if (el) o.observe(el, { subtree: true, childList: true, attributes: true, characterData: true });
          return o;
        });
        const counts = { frames: 0, ring: 0, nodes: 0, spacetime: 0, logs: 0, feed: 0 };
        const frame = () => {
          for (const name of touched) counts[name]++;
          touched.clear();
          for (const name in records) most[name] = Math.max(most[name], records[name]);
          for (const name in records) delete records[name];
          counts.frames++;
          if (counts.frames < n) requestAnimationFrame(frame);
          else {
            observers.forEach((o) => o.disconnect());
            resolve({ ...counts, most });
          }
        };
        // Mutations of one frame are delivered before the next frame's callback.
        requestAnimationFrame(() => requestAnimationFrame(frame));
      }),
    n,
  );
}

test('with ~300 messages in flight the ring moves every frame and the event panels are refreshed far less often', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?nodes=9&latency=800&speed=1' });
  await page.waitForSelector('[data-testid="node-9"]');
  await page.waitForTimeout(2500);
  assert.ok((await page.locator('[data-testid="msg"]').count()) > 100, 'many messages in flight');
  const c = await framesChanging(page, 90);
  assert.ok(c.ring >= c.frames - 3, `the ring moved in ${c.ring} of ${c.frames} frames`);
  // One group per frame, refreshed at most every 100 ms: whatever the frame
  // rate, the diagram changes in at most a third of the frames.
  assert.ok(c.spacetime > 0, 'the diagram follows the clock');
  assert.ok(c.spacetime <= Math.ceil(c.frames / 3) + 1, `the diagram changed in ${c.spacetime} of ${c.frames} frames`);
  assert.ok(c.logs + c.feed > 0, 'the logs and the feed follow the events');
  // A refresh of the diagram changes a few paths and the arrows that came,
  // went or ended, not an element per arrow (it was ~4,300 changes with
  // ~700 arrows drawn).
  const arrows = Number(await page.locator('[data-testid="spacetime"]').getAttribute('data-arrows'));
  assert.ok(arrows > 300, `${arrows} arrows drawn`);
  assert.ok(c.most.spacetime < arrows, `a refresh of the diagram made ${c.most.spacetime} DOM changes for ${arrows} arrows`);
  assertNoProblems();
  await page.close();
});

test('under a steady leader the nodes\' drawing is left alone while the messages and timers move on every frame', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?nodes=5&speed=1' });
  await page.waitForFunction(() => document.querySelector('[data-testid="status"]').dataset.leader !== '');
  await page.waitForTimeout(500);
  const c = await framesChanging(page, 60);
  assert.ok(c.ring >= c.frames - 3, `the canvas moved in ${c.ring} of ${c.frames} frames`);
  // The timers run down on the canvas: a node's SVG changes only when the
  // node does (nothing does under a steady leader with no client).
  assert.ok(c.nodes <= 2, `the nodes' SVG changed in ${c.nodes} of ${c.frames} frames`);
  assertNoProblems();
  await page.close();
});

test('paused, nothing is redrawn; a step redraws the panels at once', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?nodes=5&paused=1' });
  await page.click('[data-testid="forward-1000"]');
  const c = await framesChanging(page, 30);
  assert.deepEqual([c.ring, c.nodes, c.spacetime, c.logs, c.feed], [0, 0, 0, 0, 0]);
  const before = await page.locator('[data-testid="spacetime"]').getAttribute('data-to');
  const events = (await status(page)).position;
  await page.click('[data-testid="step"]');
  assert.notEqual((await status(page)).position, events);
  // Exact when the clock stops: the diagram is drawn for the new present.
  const now = Number((await status(page)).now);
  const to = Number(await page.locator('[data-testid="spacetime"]').getAttribute('data-to'));
  const from = Number(await page.locator('[data-testid="spacetime"]').getAttribute('data-from'));
  assert.ok(from <= now && now <= to, `the window ${from}–${to} holds the present ${now} (was to ${before})`);
  assertNoProblems();
  await page.close();
});
