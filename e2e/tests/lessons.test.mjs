// Every lesson listed in static/lessons/index.json reaches its end in the
// page with only the answers and Next (the lesson runs its own clock, at
// its own speed, through the violations a break-it step expects), right
// answers checked against the feedback, no console errors.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startApp, REPO_ROOT } from '../lib/index.mjs';
import { lessonState, takeLesson } from './raftlab-page.mjs';

const LESSONS = path.join(REPO_ROOT, 'static', 'lessons');
const index = JSON.parse(fs.readFileSync(path.join(LESSONS, 'index.json'), 'utf8')).lessons;

/** Lessons whose screenshot goes to docs/ (the README shows them). */
const SHOWN = { 'leader-crash': 1, 'figure8-broken': 2, 'prevote-on': 1 };

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

test('the lesson menu lists every lesson of index.json', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?paused=1' });
  await page.waitForSelector('[data-testid="lesson-picker"]:not([disabled])');
  const ids = await page.$$eval('[data-testid="lesson-picker"] option', (os) => os.map((o) => o.value).filter(Boolean));
  assert.deepEqual(ids, index.map((l) => l.id));
  // Picking one starts it.
  await page.selectOption('[data-testid="lesson-picker"]', 'split-vote');
  await page.waitForSelector('[data-testid="lesson"][data-lesson="split-vote"]');
  assert.match(await page.locator('[data-testid="lesson-progress"]').textContent(), /step 1 of \d+/);
  assertNoProblems();
  await page.close();
});

/** The speed label the page shows for `v` simulated ms per real ms. */
const speedLabel = (v) => (v >= 0.999 ? 'real time' : `1/${Math.round(1 / v)} of real time`);

// Lessons run on their own clocks: a few at a time keeps the file short.
describe('every lesson reaches its end with only answers and Next', { concurrency: 3 }, () => {
  for (const entry of index) {
    test(`lesson ${entry.id}`, async () => {
      const lesson = JSON.parse(fs.readFileSync(path.join(LESSONS, entry.file), 'utf8'));
      const { page, assertNoProblems, screenshot } = await app.open({ path: `?lesson=${entry.id}` });
      await page.waitForSelector(`[data-testid="lesson"][data-lesson="${entry.id}"]`);
      const first = await lessonState(page);
      assert.equal(first.steps, String(lesson.steps.length));
      assert.equal(first.step, '1');
      // Narration is drawn from the file, emphasis and all.
      const narration = await page.locator('[data-testid="lesson-narration"]').textContent();
      assert.ok(narration.length > 20, 'narration shown');
      // The lesson sets the page's speed and says so.
      assert.equal(Number(await page.locator('[data-testid="lesson-speed"]').getAttribute('data-speed')), lesson.speed);
      assert.match(await page.locator('[data-testid="lesson-speed"]').textContent(), new RegExp(speedLabel(lesson.speed)));
      let shots = 0;
      const seen = await takeLesson(page, {
        answer: (i) => lesson.steps[i].question.answer,
        onStep: async (s) => {
          const step = lesson.steps[Number(s.index)];
          if (step.question) {
            const fb = page.locator('[data-testid="lesson-feedback"]');
            assert.equal(await fb.getAttribute('data-correct'), 'true', `step ${s.step}: the right answer is praised`);
          }
          // A violation the step expects is explained in the panel, and
          // raises no alarm at the top.
          const expects = step.expects_violations ?? [];
          const explained = page.locator('[data-testid="lesson-violations"] li');
          if (expects.length) {
            const rules = await explained.evaluateAll((ls) => ls.map((l) => l.dataset.rule));
            assert.ok(rules.length > 0, `step ${s.step}: the expected violation is explained`);
            for (const r of rules) assert.ok(expects.includes(r), `step ${s.step}: ${r} is expected`);
            assert.equal(await page.locator('[data-testid="notice"]').count(), 0, 'no red notice');
          } else {
            assert.equal(await explained.count(), 0);
          }
          if (SHOWN[entry.id] && step.question && shots < 1 && Number(s.step) >= SHOWN[entry.id]) {
            shots++;
            await screenshot(`lesson-${entry.id}`);
            // For the README: the top of the page, where the lesson and the ring are.
            await page.evaluate(() => window.scrollTo(0, 0));
            await page.screenshot({
              path: path.join(REPO_ROOT, 'docs', `lesson-${entry.id}.png`),
              clip: { x: 0, y: 0, width: 1280, height: 900 },
            });
          }
        },
      });
      assert.equal(seen.length, lesson.steps.length, 'every step completed');
      const end = await lessonState(page);
      assert.equal(end.status, 'finished');
      assert.equal(end.step, String(lesson.steps.length));
      await page.waitForSelector('[data-testid="lesson-finished"]');
      if (SHOWN[entry.id]) assert.equal(shots, 1, 'a screenshot was taken');
      assertNoProblems();
      await page.close();
    });
  }
});

test('a lesson linked with paused=1 opens paused, says so, and holds its own Play', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?lesson=leader-crash&paused=1' });
  await page.waitForSelector('[data-testid="lesson"][data-lesson="leader-crash"]');
  const held = page.locator('[data-testid="lesson-waiting"][data-paused="true"]');
  await held.waitFor();
  assert.match(await held.textContent(), /clock is paused/);
  const now = await page.locator('[data-testid="status"]').evaluate((e) => e.dataset.now);
  await page.waitForTimeout(300);
  assert.equal(await page.locator('[data-testid="status"]').evaluate((e) => e.dataset.now), now, 'nothing runs');
  await page.click('[data-testid="lesson-play"]');
  await page.waitForSelector('[data-testid="pause"]');
  assert.equal(await held.count(), 0, 'the panel no longer holds Play');
  await page.waitForFunction((now) => document.querySelector('[data-testid="status"]').dataset.now !== now, now);
  assertNoProblems();
  await page.close();
});

test('back replays the lesson to the previous step', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?lesson=leader-crash&paused=1' });
  await page.waitForSelector('[data-testid="lesson"][data-lesson="leader-crash"]');
  const lesson = JSON.parse(fs.readFileSync(path.join(LESSONS, '03-leader-crash.json'), 'utf8'));
  // Through step 1, into step 2.
  await page.click('[data-testid="lesson-finish"]');
  await page.waitForSelector('[data-testid="lesson"][data-status="done"]');
  const atDone = await page.locator('[data-testid="status"]').evaluate((e) => e.dataset.now);
  await page.click('[data-testid="lesson-next"]');
  await page.waitForSelector('[data-testid="lesson"][data-index="1"]');
  if (lesson.steps[1].question) {
    assert.equal(await page.locator('[data-testid="lesson-finish"]').isDisabled(), true, 'the question comes first');
  }
  await page.click('[data-testid="lesson-back"]');
  await page.waitForSelector('[data-testid="lesson"][data-index="0"]');
  // Back at the start of step 1: replaying it ends at the same moment.
  await page.click('[data-testid="lesson-finish"]');
  await page.waitForSelector('[data-testid="lesson"][data-status="done"]');
  assert.equal(await page.locator('[data-testid="status"]').evaluate((e) => e.dataset.now), atDone);
  assertNoProblems();
  await page.close();
});

test('highlights of a lesson step mark the ring', async () => {
  // Find a lesson whose first step highlights nodes.
  const entry = index.find((e) => {
    const l = JSON.parse(fs.readFileSync(path.join(LESSONS, e.file), 'utf8'));
    return (l.steps[0].highlight?.nodes ?? []).length > 0;
  });
  if (!entry) return;
  const lesson = JSON.parse(fs.readFileSync(path.join(LESSONS, entry.file), 'utf8'));
  const { page, assertNoProblems } = await app.open({ path: `?lesson=${entry.id}&paused=1` });
  await page.waitForSelector(`[data-testid="lesson"][data-lesson="${entry.id}"]`);
  for (const n of lesson.steps[0].highlight.nodes) {
    assert.equal(await page.locator(`[data-testid="ring-node-${n}"]`).getAttribute('data-emphasis'), 'hl');
  }
  assertNoProblems();
  await page.close();
});

