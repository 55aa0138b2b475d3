// A teacher in front of a projector: Present shows the ring larger than the
// normal view, in large type, with the clock and the lesson's Next on screen
// and the other panels folded away; a selected node's actions come with it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startApp, REPO_ROOT } from '../lib/index.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

/** What the class sees of the ring and the lesson, in screen pixels. */
async function measure(page) {
  return page.evaluate(() => {
    const box = (sel) => {
      const e = document.querySelector(sel);
      if (!e || e.getClientRects().length === 0) return null;
      const b = e.getBoundingClientRect();
      return { top: b.top, bottom: b.bottom, left: b.left, right: b.right, width: b.width };
    };
    // SVG text is sized in the drawing's units: its size on screen is the
    // CSS size times the drawing's scale times the node's zoom.
    const svg = document.querySelector('svg.cluster').getBoundingClientRect();
    const scale = Math.min(svg.width, svg.height) / 600;
    const onScreen = (sel) => {
      const e = document.querySelector(sel);
      const t = e.closest('[data-testid^="ring-node-"]').getAttribute('transform') || '';
      const zoom = Number((t.match(/scale\(([\d.]+)\)/) || [0, 1])[1]);
      return parseFloat(getComputedStyle(e).fontSize) * scale * zoom;
    };
    const px = (sel) => {
      const e = document.querySelector(sel);
      return e ? parseFloat(getComputedStyle(e).fontSize) : 0;
    };
    return {
      node: box('[data-testid="node-1"]'),
      name: onScreen('[data-testid="ring-node-1"] .label'),
      term: onScreen('[data-testid="ring-node-1"] .term'),
      narration: px('[data-testid="lesson-narration"] p'),
      caption: px('[data-testid="ring-caption"]'),
      next: box('[data-testid="lesson-next"]'),
      clock: box('[data-testid="play"]') || box('[data-testid="pause"]'),
      step: box('[data-testid="step"]'),
      feed: box('.feed-panel'),
      scrollHeight: document.documentElement.scrollHeight,
      scrollWidth: document.documentElement.scrollWidth,
    };
  });
}

for (const [width, height] of [[1024, 768], [1280, 720]]) {
  test(`at ${width}x${height} Present enlarges the ring, keeps Next and the clock on screen and folds the panels`, async () => {
    const { page, assertNoProblems } = await app.open({ path: '?lesson=leader-election&paused=1' });
    await page.setViewportSize({ width, height });
    await page.waitForSelector('[data-testid="lesson"][data-lesson="leader-election"]');
    const normal = await measure(page);
    const present = page.locator('[data-testid="present"]');
    assert.equal(await present.getAttribute('aria-pressed'), 'false');
    const offLook = await present.evaluate((e) => getComputedStyle(e).backgroundColor);
    await present.click();
    await page.waitForSelector('.app.present');
    const big = await measure(page);

    assert.ok(big.node.width >= 1.4 * normal.node.width,
      `a node is ${big.node.width.toFixed(0)} px wide presenting, ${normal.node.width.toFixed(0)} px in the normal view`);
    assert.ok(big.name >= 36, `node names are ${big.name.toFixed(1)} px`);
    assert.ok(big.term >= 22, `terms are ${big.term.toFixed(1)} px`);
    assert.ok(big.narration >= 22, `the narration is ${big.narration} px`);
    assert.ok(big.caption >= 22, `the caption under the ring is ${big.caption} px`);
    for (const [what, b] of [['Next', big.next], ['Play', big.clock], ['Step', big.step], ['node S1', big.node]]) {
      assert.ok(b, `${what} is shown`);
      assert.ok(b.top >= 0 && b.bottom <= height && b.left >= 0 && b.right <= width,
        `${what} is on screen: ${JSON.stringify(b)} in ${width}x${height}`);
    }
    assert.ok(big.scrollHeight <= height, `nothing to scroll: the page is ${big.scrollHeight} px high`);
    assert.equal(big.scrollWidth, width);

    // Present looks pressed.
    assert.equal(await present.getAttribute('aria-pressed'), 'true');
    const onLook = await present.evaluate((e) => getComputedStyle(e).backgroundColor);
    assert.notEqual(onLook, offLook, 'Present looks different when on');

    // The panels are folded away, and can be opened and folded again.
    assert.equal(big.feed, null, 'the feed is folded away');
    const panels = page.locator('[data-testid="present-panels"]');
    assert.equal(await panels.getAttribute('aria-expanded'), 'false');
    await panels.click();
    assert.equal(await panels.getAttribute('aria-expanded'), 'true');
    await page.waitForSelector('.feed-panel', { state: 'visible' });
    await panels.click();
    await page.waitForSelector('.feed-panel', { state: 'hidden' });

    // The lesson goes on with only the panel's own controls, and Next
    // stays on screen at the next step too.
    const choice = page.locator('[data-testid="choice-1"]');
    const c = await choice.boundingBox();
    assert.ok(c && c.y >= 0, 'the question\'s choices are on screen');
    await choice.click();
    await page.waitForSelector('[data-testid="lesson-feedback"]');
    const held = page.locator('[data-testid="lesson-play"]');
    if (await held.count()) await held.click();
    const next = page.locator('[data-testid="lesson-next"]:not([disabled])');
    await next.waitFor({ timeout: 20_000 });
    await next.click();
    await page.waitForSelector('[data-testid="lesson"][data-index="1"]');
    const second = await measure(page);
    assert.ok(second.next.bottom <= height, 'Next is still on screen at step 2');
    assert.equal(await page.locator('[data-testid="lesson"]').evaluate((e) => e.scrollTop), 0,
      'the new step is shown from its start');
    assert.equal(await page.evaluate(() => window.scrollY), 0, 'the page did not scroll');
    if (width === 1024) {
      await page.screenshot({ path: path.join(REPO_ROOT, 'docs', 'present-lesson.png') });
    }
    assertNoProblems();
    await page.close();
  });
}

test('presenting, a selected node\'s actions come under the ring and act on it', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=3&paused=1&present=1' });
  await page.setViewportSize({ width: 1024, height: 768 });
  await page.click('[data-testid="node-2"]');
  const bar = page.locator('[data-testid="selection-bar"]');
  await bar.waitFor();
  assert.equal(await bar.getAttribute('data-node'), '2');
  const b = await bar.boundingBox();
  assert.ok(b.y + b.height <= 768, `the bar is on screen (${JSON.stringify(b)})`);
  await page.click('[data-testid="bar-crash"]');
  await page.waitForSelector('[data-testid="node-2"][data-alive="false"]');
  // The same node stays selected; the bar now offers Restart.
  await page.click('[data-testid="bar-restart"]');
  await page.waitForSelector('[data-testid="node-2"][data-alive="true"]');
  await page.click('[data-testid="bar-deselect"]');
  await bar.waitFor({ state: 'detached' });
  assert.equal(await page.locator('[data-testid="node-2"]').getAttribute('data-selected'), 'false');
  assertNoProblems();
  await page.close();
});

test('in the normal view on a wide screen the bar stays hidden (the node panel is beside the ring)', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=3&paused=1' });
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.click('[data-testid="node-2"]');
  await page.waitForSelector('[data-testid="node-2"][data-selected="true"]');
  assert.equal(await page.locator('[data-testid="selection-bar"]').isVisible(), false);
  assert.equal(await page.locator('[data-testid="crash"]').isVisible(), true);
  assertNoProblems();
  await page.close();
});
