// Accessibility (issue 20, docs/accessibility.md): axe-core finds no
// serious or critical violation, and no moderate or minor one outside the
// documented list, in every view a student meets; text keeps its contrast
// when hovered or disabled; reduced motion stops the messages flying and
// every animation; forced colours keep the ring legible; at 320 CSS px
// wide nothing is lost and only the diagrams scroll sideways.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from '../lib/index.mjs';
import { axeViolations, describe, failing } from './axe.mjs';
import { electLeader, lessonState, until } from './raftlab-page.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

/** Fails with axe's findings, readable, when any of them is not allowed. */
async function assertAxeClean(page, view) {
  const bad = failing(await axeViolations(page));
  assert.equal(bad.length, 0, `axe in ${view}:\n${bad.map(describe).join('\n')}`);
}

test('axe: the main view with a leader, messages in flight and a full feed', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=3&paused=1' });
  await electLeader(page);
  await page.click('[data-testid="forward-10"]');
  await page.click('[data-testid="node-2"]');
  await page.waitForSelector('[data-testid="node-2"][data-selected="true"]');
  await assertAxeClean(page, 'the main view');
  assertNoProblems();
  await page.close();
});

test('axe: a lesson with its question open, then answered', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?lesson=leader-election&paused=1' });
  await page.waitForSelector('[data-testid="lesson"][data-lesson="leader-election"][data-status="question"]');
  await assertAxeClean(page, 'a lesson\'s question');
  await page.click('[data-testid="choice-0"]');
  await page.waitForSelector('[data-testid="lesson-feedback"]');
  assert.equal((await lessonState(page)).lesson, 'leader-election');
  await assertAxeClean(page, 'a lesson\'s answered question');
  assertNoProblems();
  await page.close();
});

test('axe: break-it with the checker\'s violation explained', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?paused=1' });
  await page.click('[data-testid="breakit"]');
  await page.check('[data-testid="breakit-bug-prevote-raises-term"]');
  await page.click('[data-testid="breakit-hunt"]');
  await page.waitForSelector('[data-testid="violation-explain"]', { timeout: 90_000 });
  assert.equal(await page.locator('[data-testid="safety"]').getAttribute('data-status'), 'violated');
  await assertAxeClean(page, 'break-it with a violation');
  assertNoProblems();
  await page.close();
});

test('axe: sharded mode with every group led', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?mode=sharded&paused=1&seed=3' });
  await until(page, 'every group has a leader', async () => {
    const leaders = await page.locator('[data-testid="status"]').getAttribute('data-leaders');
    return leaders.split(' ').every((kv) => kv.split('=')[1]);
  });
  await assertAxeClean(page, 'sharded mode');
  assertNoProblems();
  await page.close();
});

test('axe: the help dialog open', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=3&paused=1' });
  await page.click('[data-testid="help-open"]');
  await page.waitForSelector('[data-testid="help"]');
  await assertAxeClean(page, 'the help dialog');
  assertNoProblems();
  await page.close();
});

test('axe: Present, with its panels folded away and shown', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?lesson=leader-election&paused=1&present=1' });
  await page.waitForSelector('.app.present [data-testid="lesson"][data-status="question"]');
  await assertAxeClean(page, 'Present');
  await page.click('[data-testid="present-panels"]');
  await page.waitForSelector('.app.present.panels-open');
  await assertAxeClean(page, 'Present with its panels');
  assertNoProblems();
  await page.close();
});

/**
 * Contrast of `el`'s text: its colour (times its and its ancestors'
 * opacity) against the backgrounds beneath it composed over white, as
 * WCAG computes it. Runs in the page.
 */
function contrastInPage(el) {
  const rgba = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return [255, 255, 255, 0];
    const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = ([r, g, b, a], [R, G, B]) => [r * a + R * (1 - a), g * a + G * (1 - a), b * a + B * (1 - a)];
  const layers = [];
  let opacity = 1;
  for (let e = el; e; e = e.parentElement) {
    const s = getComputedStyle(e);
    opacity *= Number(s.opacity);
    const bg = rgba(s.backgroundColor);
    if (bg[3] > 0) layers.push(bg);
    if (bg[3] >= 1) break;
  }
  let bg = [255, 255, 255];
  for (const l of layers.reverse()) bg = over(l, bg);
  const fgc = rgba(getComputedStyle(el).color);
  const fg = over([fgc[0], fgc[1], fgc[2], fgc[3] * opacity], bg);
  const lum = (c) =>
    c
      .map((v) => v / 255)
      .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
      .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
  return (hi + 0.05) / (lo + 0.05);
}

/** The page's visible buttons with text, one of each look (class and pressed state). */
async function buttonLooks(page, selector) {
  return page.evaluate((selector) => {
    const seen = new Set();
    const out = [];
    document.querySelectorAll('[data-a11y-look]').forEach((b) => delete b.dataset.a11yLook);
    document.querySelectorAll(selector).forEach((b, i) => {
      if (b.getClientRects().length === 0 || !b.textContent.trim()) return;
      const look = `${b.className}|${b.getAttribute('aria-pressed')}|${b.disabled}`;
      if (seen.has(look)) return;
      seen.add(look);
      b.dataset.a11yLook = String(i);
      out.push({ look, id: String(i), name: b.dataset.testid ?? b.textContent.trim().slice(0, 30) });
    });
    return out;
  }, selector);
}

/**
 * The buttons and selects on the page whose text falls under 4.5:1 when
 * disabled, or when hovered (each look of an enabled button once).
 */
async function lowContrastStates(page) {
  const low = [];
  for (const b of await buttonLooks(page, 'button:disabled, select:disabled')) {
    const c = await page.locator(`[data-a11y-look="${b.id}"]`).evaluate(contrastInPage);
    if (c < 4.5) low.push(`${b.name} (disabled): ${c.toFixed(2)}:1`);
  }
  for (const b of await buttonLooks(page, 'button:not(:disabled)')) {
    const el = page.locator(`[data-a11y-look="${b.id}"]`);
    if (!(await el.isVisible())) continue;
    await el.hover({ timeout: 2000 }).catch(() => {});
    const c = await el.evaluate(contrastInPage);
    if (c < 4.5) low.push(`${b.name} (hovered, ${b.look}): ${c.toFixed(2)}:1`);
  }
  return low;
}

test('text keeps 4.5:1 on buttons hovered, pressed and disabled', async () => {
  // A lesson: Back and Finish disabled before the answer, the choices.
  const lesson = await app.open({ path: '?lesson=leader-election&paused=1' });
  await lesson.page.waitForSelector('[data-testid="lesson"][data-status="question"]');
  const inLesson = await lessonContrastChecked(lesson.page);
  assert.deepEqual(inLesson, [], 'in a lesson every button\'s text keeps 4.5:1');
  lesson.assertNoProblems();
  await lesson.page.close();

  // The main view: chips on, Break it pressed, a node's actions, Present's look.
  const { page, assertNoProblems } = await app.open({ path: '?seed=3&paused=1' });
  await electLeader(page);
  await page.click('[data-testid="breakit"]');
  await page.click('[data-testid="node-1"]');
  assert.deepEqual(await lowContrastStates(page), [], 'in the main view every button\'s text keeps 4.5:1');
  assertNoProblems();
  await page.close();

  // Sharded mode, its walkthrough open (its step dots, one on).
  const sharded = await app.open({ path: '?mode=sharded&paused=1&seed=3' });
  if ((await sharded.page.getAttribute('[data-testid="walk-open"]', 'aria-pressed')) !== 'true') {
    await sharded.page.click('[data-testid="walk-open"]');
  }
  await sharded.page.click('[data-testid="forward-100"]');
  assert.deepEqual(await lowContrastStates(sharded.page), [], 'in sharded mode every button\'s text keeps 4.5:1');
  sharded.assertNoProblems();
  await sharded.page.close();
});

/** `lowContrastStates` of a lesson page, before and after its answer. */
async function lessonContrastChecked(page) {
  const before = await lowContrastStates(page);
  await page.click('[data-testid="choice-0"]');
  await page.waitForSelector('[data-testid="lesson-feedback"]');
  return [...before, ...(await lowContrastStates(page))];
}

/** The flights canvas's alpha at a point in SVG user units (the ring's viewBox). */
async function flightsAlphaAt(page, [x, y]) {
  return page.evaluate(({ x, y }) => {
    const svg = document.querySelector('svg.cluster');
    const p = new DOMPoint(x, y).matrixTransform(svg.getScreenCTM());
    const c = document.querySelector('[data-testid="flights"]');
    const r = c.getBoundingClientRect();
    const px = Math.floor(((p.x - r.left) * c.width) / r.width);
    const py = Math.floor(((p.y - r.top) * c.height) / r.height);
    return c.getContext('2d').getImageData(px, py, 1, 1).data[3];
  }, { x, y });
}

/**
 * A message at least `from` and less than `to` of the way through its
 * flight, whose lane is long enough to tell its middle from its ends:
 * { id, f, lane, at } with `at` where it flies to (user units), or null.
 */
async function messageInFlight(page, from, to) {
  return page.evaluate(({ from, to }) => {
    const vt = Number(document.querySelector('[data-testid="flights"]').dataset.vt);
    for (const m of document.querySelectorAll('[data-testid="msg"]')) {
      const d = m.dataset;
      const lane = d.lane.split(' ').map(Number);
      const f = (vt - Number(d.sent)) / Math.max(Number(d.arrive) - Number(d.sent), 1);
      const len = Math.hypot(lane[2] - lane[0], lane[3] - lane[1]);
      if (f >= from && f < to && len > 150) {
        const at = [lane[0] + (lane[2] - lane[0]) * f, lane[1] + (lane[3] - lane[1]) * f];
        return { id: d.id, f, lane, at };
      }
    }
    return null;
  }, { from, to });
}

test('reduced motion: messages jump between the ends of their lanes, nothing animates', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?seed=3&paused=1' });
  // Without the preference a message a third of the way is drawn there.
  const flying = await until(page, 'a message a quarter to 45% through its flight', () => messageInFlight(page, 0.25, 0.45), { button: 'forward-10', max: 300 });
  assert.ok((await flightsAlphaAt(page, flying.at)) > 0, `message #${flying.id} is drawn ${Math.round(flying.f * 100)}% along its lane`);

  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.waitForFunction(() => matchMedia('(prefers-reduced-motion: reduce)').matches);
  // The ring redraws on the next step; find a message part way again.
  await page.click('[data-testid="forward-10"]');
  const early = await until(page, 'a message 15% to 45% through its flight', () => messageInFlight(page, 0.15, 0.45), { button: 'forward-10', max: 300 });
  assert.equal(await flightsAlphaAt(page, early.at), 0, `message #${early.id} is not drawn ${Math.round(early.f * 100)}% along its lane`);
  assert.ok((await flightsAlphaAt(page, early.lane.slice(0, 2))) > 0, 'it is drawn at its sender');
  const late = await until(page, 'a message 55% to 85% through its flight', () => messageInFlight(page, 0.55, 0.85), { button: 'forward-10', max: 300 });
  assert.equal(await flightsAlphaAt(page, late.at), 0, `message #${late.id} is not drawn ${Math.round(late.f * 100)}% along its lane`);
  assert.ok((await flightsAlphaAt(page, late.lane.slice(2))) > 0, 'it is drawn at its receiver');

  // No animation or transition runs anywhere on the page.
  const moving = await page.evaluate(() => [...document.querySelectorAll('*')]
    .map((e) => [e, getComputedStyle(e)])
    .filter(([, s]) => s.animationName !== 'none' || s.transitionDuration.split(',').some((d) => parseFloat(d) > 0))
    .map(([e]) => e.className.baseVal ?? e.className));
  assert.deepEqual(moving, [], 'nothing animates');
  await screenshot('a11y-reduced-motion');
  assertNoProblems();
  await page.close();
});

/**
 * How far each message of sharded mode is from the nearer node of its
 * two (centre to centre, user units), read from the drawing.
 */
async function shardedOffsets(page) {
  return page.evaluate(() => {
    const centre = (id) => {
      const c = document.querySelector(`[data-testid="node-${id}"]`);
      return [Number(c.getAttribute('cx')), Number(c.getAttribute('cy'))];
    };
    return [...document.querySelectorAll('[data-testid="msg"]')].map((m) => {
      const [, x, y] = m.getAttribute('transform').match(/translate\(([-\d.]+) ([-\d.]+)\)/).map(Number);
      return Math.min(...[m.dataset.from, m.dataset.to].map(centre).map(([cx, cy]) => Math.hypot(x - cx, y - cy)));
    });
  });
}

test('reduced motion in sharded mode: messages wait at an end of their lane', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?mode=sharded&paused=1&seed=3' });
  // A message at an end of its lane sits within a node's radius and the
  // lane's offset (under 45 units) of its sender's or receiver's centre.
  const END = 45;
  // Without the preference, some message is seen part way.
  await until(page, 'a message part way along its lane', async () => (await shardedOffsets(page)).some((d) => d > END), { button: 'forward-10', max: 200 });
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.waitForFunction(() => matchMedia('(prefers-reduced-motion: reduce)').matches);
  let seen = 0;
  for (let i = 0; i < 40; i++) {
    await page.click('[data-testid="forward-10"]');
    const offsets = await shardedOffsets(page);
    seen += offsets.length;
    assert.ok(offsets.every((d) => d <= END), `every message sits at an end of its lane (${offsets.map((d) => d.toFixed(0)).join(', ')})`);
  }
  assert.ok(seen > 0, 'messages were in flight');
  assertNoProblems();
  await page.close();
});

test('forced colours: the ring is drawn in system colours', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?seed=3&paused=1' });
  await page.emulateMedia({ forcedColors: 'active', colorScheme: 'dark' });
  await electLeader(page);
  const look = await page.evaluate(() => {
    const style = (sel, prop) => getComputedStyle(document.querySelector(sel))[prop];
    const leader = document.querySelector('[data-testid="status"]').dataset.leader;
    const follower = document.querySelector('[data-testid^="node-"][data-role="follower"]');
    return {
      backdrop: style('.cluster .backdrop', 'fill'),
      text: getComputedStyle(document.body).color,
      canvas: getComputedStyle(document.documentElement).backgroundColor,
      follower: getComputedStyle(follower).fill,
      followerStroke: getComputedStyle(follower).stroke,
      label: getComputedStyle(follower.parentElement.querySelector('.label')).fill,
      leader: style(`[data-testid="node-${leader}"]`, 'fill'),
    };
  });
  // The ring's ground is the page's (Canvas), its strokes and words the
  // page's text colour (CanvasText); the leader is filled with Highlight.
  assert.equal(look.backdrop, look.canvas);
  assert.equal(look.follower, look.canvas);
  assert.equal(look.followerStroke, look.text);
  assert.equal(look.label, look.text);
  assert.notEqual(look.leader, look.canvas, 'the leader stands out');
  await page.locator('svg.cluster').scrollIntoViewIfNeeded();
  await screenshot('a11y-forced-colors');
  assertNoProblems();
  await page.close();
});

/**
 * The visible elements that stick out of a `width`-px page sideways,
 * except those inside a box that scrolls or clips sideways (the diagrams).
 */
async function outOfView(page, width) {
  return page.evaluate((width) => {
    const clipped = (e) => {
      for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
        if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)) return true;
      }
      return false;
    };
    return [...document.querySelectorAll('body *')]
      .filter((e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden')
      .filter((e) => {
        const r = e.getBoundingClientRect();
        // Wholly left of the page is the out-of-sight-until-focused idiom
        // (the skip links); the test below Tabs to the first of them.
        return r.width > 0 && r.right > 0 && (r.left < -1 || r.right > width + 1);
      })
      .filter((e) => !clipped(e))
      .map((e) => `${e.tagName.toLowerCase()}.${e.className.baseVal ?? e.className} [${e.dataset.testid ?? ''}]`);
  }, width);
}

/** Controls every view has; the clock's, and the mode switch. */
const CLOCK = ['step-back', 'play', 'step', 'forward-10', 'forward-100', 'forward-1000', 'speed', 'mode-switch', 'node-1', 'client-key'];
const SINGLE = [...CLOCK, 'lesson-picker', 'breakit', 'present', 'help-open', 'crash', 'partition'];

for (const [view, path, ready, controls] of [
  ['the main view', '?seed=3&paused=1', '[data-testid="node-1"]', SINGLE],
  ['a lesson', '?lesson=leader-election&paused=1', '[data-testid="lesson"][data-status="question"]', [...SINGLE, 'choice-0', 'lesson-next']],
  ['sharded mode', '?mode=sharded&paused=1&seed=3', '[data-testid="group-g1"]', [...CLOCK, 'walk-open', 'member-group']],
]) {
  test(`reflow: ${view} at 320 CSS px loses nothing and does not scroll sideways`, async () => {
    const { page, assertNoProblems, screenshot } = await app.open({ path });
    await page.setViewportSize({ width: 320, height: 640 });
    await page.waitForSelector(ready);
    // The first Tab stop (a skip link, where there are some) shows within the width.
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => {
      const r = document.activeElement.getBoundingClientRect();
      return { left: r.left, right: r.right, what: document.activeElement.dataset.testid };
    });
    assert.ok(first.left >= 0 && first.right <= 320, `the first Tab stop is within the width: ${JSON.stringify(first)}`);
    await page.click('[data-testid="forward-100"]');
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= 320, 'no sideways scrolling');
    assert.deepEqual(await outOfView(page, 320), [], 'nothing sticks out sideways');
    for (const id of controls) {
      const el = page.locator(`[data-testid="${id}"]`).first();
      await el.scrollIntoViewIfNeeded();
      assert.ok(await el.isVisible(), `${id} is there`);
      const box = await el.boundingBox();
      assert.ok(box.x >= 0 && box.x + box.width <= 320, `${id} is within the page's width`);
    }
    await screenshot(`a11y-320-${view.replace(/ /g, '-')}`);
    assertNoProblems();
    await page.close();
  });
}
