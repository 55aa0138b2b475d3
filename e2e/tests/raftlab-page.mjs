// Helpers for driving the raftlab page deterministically: the page opens
// paused (`?paused=1`), and the tests move the simulated clock with the
// jump buttons (+10 ms, +100 ms, +1 s) and the step buttons, reading the
// state back from data-* attributes. Nothing depends on wall-clock speed,
// except `takeLesson`, which lets a lesson run its own clock as a student
// who only answers and presses Next sees it (bounded by a generous timeout).
import assert from 'node:assert/strict';
import { launchBrowser, watchProblems, READY_SELECTOR } from '../lib/index.mjs';

/** The page's read-only status: now, step, position, leader, branches, ... */
export async function status(page) {
  return page.locator('[data-testid="status"]').evaluate((e) => ({ ...e.dataset }));
}

/** The data-* attributes of node `id` (role, term, alive, commit, standing). */
export async function node(page, id) {
  return page.locator(`[data-testid="node-${id}"]`).evaluate((e) => ({ ...e.dataset }));
}

/** Every node's attributes, by id, plus every log row's and log cell's. */
export async function snapshotOfPage(page) {
  return page.evaluate(() => {
    const pick = (sel) =>
      [...document.querySelectorAll(sel)].map((e) => {
        const d = { ...e.dataset };
        delete d.selected;
        return d;
      });
    return {
      nodes: pick('[data-testid^="node-"]'),
      rows: pick('[data-testid^="log-row-"]'),
      cells: pick('[data-testid^="log-"]:not([data-testid^="log-row-"])'),
      msgs: pick('[data-testid="msg"]').map((m) => `${m.id}:${m.kind}:${m.from}>${m.to}`),
      position: document.querySelector('[data-testid="status"]').dataset.position,
    };
  });
}

/**
 * Where message `id` is drawn, in page coordinates: on its lane (the hidden
 * list's `data-lane`, SVG user units) as far as the canvas's visual time
 * (`data-vt`) puts it between its sending and arrival, or where it stands
 * while it waits at its receiver (`data-at`), mapped through the ring's SVG
 * to the page.
 */
export async function messageAt(page, id) {
  return page.evaluate((id) => {
    const m = document.querySelector(`[data-testid="msg"][data-id="${id}"]`).dataset;
    const vt = Number(document.querySelector('[data-testid="flights"]').dataset.vt);
    const [x0, y0, x1, y1] = m.lane.split(' ').map(Number);
    const span = Math.max(Number(m.arrive) - Number(m.sent), 1);
    const f = Math.min(1, Math.max(0, (vt - Number(m.sent)) / span));
    const [ux, uy] = m.at ? m.at.split(' ').map(Number) : [x0 + (x1 - x0) * f, y0 + (y1 - y0) * f];
    const svg = document.querySelector('svg.cluster');
    const p = new DOMPoint(ux, uy).matrixTransform(svg.getScreenCTM());
    return { x: p.x, y: p.y };
  }, id);
}

/** The canvas's pixel (r, g, b, a) at page point `at` (its device pixels). */
export async function flightsPixel(page, at) {
  return page.evaluate(({ x, y }) => {
    const c = document.querySelector('[data-testid="flights"]');
    const r = c.getBoundingClientRect();
    const px = Math.floor(((x - r.left) * c.width) / r.width);
    const py = Math.floor(((y - r.top) * c.height) / r.height);
    return [...c.getContext('2d').getImageData(px, py, 1, 1).data];
  }, at);
}

/** The leader's id (a string), or '' when there is none. */
export async function leader(page) {
  return (await status(page)).leader;
}

/** Ids of the nodes drawn. */
export async function nodeIds(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('[data-testid^="node-"]')].map((e) => e.dataset.testid.slice(5)),
  );
}

/**
 * Clicks a jump button (`forward-10`, `forward-100`, `forward-1000`) until
 * `check()` holds, at most `max` times; fails with `what` otherwise.
 */
export async function until(page, what, check, { button = 'forward-100', max = 80 } = {}) {
  for (let i = 0; i <= max; i++) {
    const v = await check();
    if (v) return v;
    await page.click(`[data-testid="${button}"]`);
  }
  const s = await status(page);
  assert.fail(`never happened: ${what} (sim time ${s.now} ms)`);
}

/** Jumps ahead until there is a leader; returns its id. */
export async function electLeader(page) {
  return until(page, 'a leader is elected', () => leader(page));
}

/** Selects node `id` (unless it is selected) by clicking it in the cluster drawing. */
export async function select(page, id) {
  const el = page.locator(`[data-testid="node-${id}"]`);
  // Clicking the selected node deselects it.
  if ((await el.getAttribute('data-selected')) !== 'true') await el.click();
  await page.waitForSelector(`[data-testid="node-${id}"][data-selected="true"]`);
}

/** Types a key and value and clicks put/get/delete. */
export async function client(page, op, key, value = '') {
  await page.fill('[data-testid="client-key"]', key);
  await page.fill('[data-testid="client-value"]', value);
  await page.click(`[data-testid="${op}"]`);
}

/** The latest client operation: { phase, text }. */
export async function clientResult(page) {
  const el = page.locator('[data-testid="client-result"]');
  return { phase: await el.getAttribute('data-phase'), text: (await el.textContent()).trim() };
}

/** A node's log row attributes: base, last, commit, applied. */
export async function logRow(page, id) {
  return page.locator(`[data-testid="log-row-${id}"]`).evaluate((e) => ({ ...e.dataset }));
}

/** The terms of node `id`'s log entries drawn, by index. */
export async function logTerms(page, id) {
  return page.evaluate((id) => {
    const out = {};
    for (const c of document.querySelectorAll(`[data-testid^="log-${id}-"]`)) {
      out[c.dataset.testid.split('-')[2]] = c.dataset.term;
    }
    return out;
  }, id);
}

/** The lesson panel's state: { lesson, status, step, steps, index }. */
export async function lessonState(page) {
  return page.locator('[data-testid="lesson"]').evaluate((e) => ({ ...e.dataset }));
}

/** Clicks `[data-testid=id]` now if it exists and is enabled; no waiting. */
async function clickIfEnabled(page, id) {
  await page.evaluate((id) => {
    const b = document.querySelector(`[data-testid="${id}"]`);
    if (b && !b.disabled) b.click();
  }, id);
}

/**
 * Plays the lesson on the page to its end with the controls a student
 * uses: answers each question (`answer(stepIndex)` gives the choice),
 * "skip to end of step", then "Next". `onStep(state)` runs at each stop
 * (a step done, before Next). Returns the states seen.
 */
export async function playLesson(page, { answer = () => 0, onStep = async () => {}, max = 400 } = {}) {
  const seen = [];
  for (let i = 0; i < max; i++) {
    const s = await lessonState(page);
    const key = `${s.index}:${s.status}`;
    if (s.status === 'finished') return seen;
    if (s.status === 'failed') {
      const why = await page.locator('[data-testid="lesson-waiting"]').textContent();
      assert.fail(`lesson ${s.lesson} failed at step ${s.step}: ${why}`);
    }
    if (s.status === 'question') {
      await page.click(`[data-testid="choice-${answer(Number(s.index))}"]`);
      await page.waitForSelector('[data-testid="lesson-feedback"]');
    } else if (s.status === 'waiting') {
      // The clock may complete the step between reading the state and the
      // click, which disables the button: click only if it is still enabled
      // (the wait below then sees the new state either way).
      await clickIfEnabled(page, 'lesson-finish');
    } else if (s.status === 'done') {
      seen.push(s);
      await onStep(s);
      await clickIfEnabled(page, 'lesson-next');
    }
    await page.waitForFunction(
      (key) => {
        const d = document.querySelector('[data-testid="lesson"]')?.dataset;
        return d && `${d.index}:${d.status}` !== key;
      },
      key,
      { timeout: 30_000 },
    );
  }
  assert.fail('the lesson did not finish');
}

/** The controls a student taking a lesson with only answers and Next never touches. */
const CLOCK_CONTROLS = ['play', 'pause', 'lesson-finish', 'lesson-play', 'step', 'step-back', 'forward-10', 'forward-100', 'forward-1000'];

/**
 * Takes the lesson on the page to its end as a student who only answers
 * and presses Next: it clicks answer choices (`answer(stepIndex)`) and
 * Next, and nothing else — never the clock's Play, never Skip, never the
 * lesson's own Play. The lesson must run its clock itself; a step that
 * waits with the clock paused, or longer than `stepTimeout` ms of wall
 * time, fails. `onStep(state)` runs at each completed step, before Next.
 * Clicks on any clock control during the run fail too (they are counted
 * in the page). Returns the states seen at each completed step.
 */
export async function takeLesson(page, { answer = () => 0, onStep = async () => {}, stepTimeout = 30_000 } = {}) {
  await page.evaluate((ids) => {
    window.__clockClicks = [];
    document.addEventListener(
      'click',
      (e) => {
        const id = e.target.closest?.('[data-testid]')?.dataset.testid;
        if (ids.includes(id)) window.__clockClicks.push(id);
      },
      true,
    );
  }, CLOCK_CONTROLS);
  const seen = [];
  for (let i = 0; i < 400; i++) {
    const s = await lessonState(page);
    const key = `${s.index}:${s.status}`;
    if (s.status === 'finished') {
      assert.deepEqual(await page.evaluate(() => window.__clockClicks), [], 'no clock control was used');
      return seen;
    }
    if (s.status === 'failed') {
      const why = await page.locator('[data-testid="lesson-waiting"]').textContent();
      assert.fail(`lesson ${s.lesson} failed at step ${s.step}: ${why}`);
    }
    if (s.status === 'question') {
      await page.click(`[data-testid="choice-${answer(Number(s.index))}"]`);
      await page.waitForSelector('[data-testid="lesson-feedback"]');
    } else if (s.status === 'waiting') {
      const paused = await page.locator('[data-testid="lesson-waiting"][data-paused="true"]').count();
      if (paused) {
        const notice = await page.locator('[data-testid="notice"]').allTextContents();
        assert.fail(`lesson ${s.lesson}, step ${s.step}: waits with the clock paused ${notice.join(' ')}`);
      }
    } else if (s.status === 'done') {
      seen.push(s);
      await onStep(s);
      await page.click('[data-testid="lesson-next"]');
    }
    try {
      await page.waitForFunction(
        (key) => {
          const d = document.querySelector('[data-testid="lesson"]')?.dataset;
          const paused = document.querySelector('[data-testid="lesson-waiting"][data-paused="true"]');
          return (d && `${d.index}:${d.status}` !== key) || paused;
        },
        key,
        { timeout: stepTimeout },
      );
    } catch (err) {
      assert.fail(`lesson ${s.lesson}, step ${s.step}: still ${s.status} after ${stepTimeout} ms (${err.message})`);
    }
  }
  assert.fail('the lesson did not finish');
}

/**
 * Opens `link` in a separate browser (nothing shared but the link), waits
 * until the page has opened the run the link carries, runs `check(page)`
 * and asserts the page raised no console error or failed request.
 */
export async function inFreshBrowser(link, check) {
  const other = await launchBrowser();
  try {
    const fresh = await other.newPage();
    const watch = watchProblems(fresh);
    await fresh.goto(link);
    await fresh.waitForSelector(READY_SELECTOR);
    await fresh.waitForSelector('[data-testid="source"][data-kind="link"]');
    await check(fresh);
    watch.assertNone();
  } finally {
    await other.close();
  }
}
