// Takes lessons of static/lessons/index.json to their end in the page with
// only the answers and Next (the lesson runs its own clock, at its own
// speed, through the violations a break-it step expects), right answers
// checked against the feedback, no console errors. The lessons are split
// over several test files (lessons*.test.mjs) so each file stays within
// the runner's time limit.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../lib/index.mjs';
import { lessonState, takeLesson } from './raftlab-page.mjs';

export const LESSONS = path.join(REPO_ROOT, 'static', 'lessons');
export const index = JSON.parse(fs.readFileSync(path.join(LESSONS, 'index.json'), 'utf8')).lessons;

/** Lessons whose screenshot goes to docs/ (the README shows them). */
const SHOWN = { 'leader-crash': 1, 'figure8-broken': 2, 'prevote-on': 1 };

/** How many lessons, from the first, lessons*.test.mjs 1 to 3 share; the
 * lessons after them go to lessons-4.test.mjs (issue 19's, played by hand). */
const SHARED = 23;

/** Lesson files per test file: part `k` (from 0) of `of` takes every lesson
 * of the first `SHARED` whose place in the index is `k` modulo `of`. */
export function part(k, of) {
  return index.filter((_, i) => i < SHARED && i % of === k);
}

/** The lessons after the first `SHARED`. */
export function later() {
  return index.slice(SHARED);
}

/** Runs `entries` with `app()` the started app; `checks[id](page, step)`,
 * if given, looks further at lesson `id`'s page when each step is done;
 * `stepTimeout`, wall ms a step may take (see `takeLesson`). */
export function everyLessonReachesItsEnd(entries, app, checks = {}, { stepTimeout } = {}) {
  /** The speed label the page shows for `v` simulated ms per real ms. */
  const speedLabel = (v) => (v >= 0.999 ? 'real time' : `1/${Math.round(1 / v)} of real time`);

  // Lessons run on their own clocks: a few at a time keeps the file short.
  describe('every lesson reaches its end with only answers and Next', { concurrency: 3 }, () => {
    for (const entry of entries) {
      test(`lesson ${entry.id}`, async () => {
        const lesson = JSON.parse(fs.readFileSync(path.join(LESSONS, entry.file), 'utf8'));
        const { page, assertNoProblems, screenshot } = await app().open({ path: `?lesson=${entry.id}` });
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
          stepTimeout,
          answer: (i) => lesson.steps[i].question.answer,
          onStep: async (s) => {
            const step = lesson.steps[Number(s.index)];
            await checks[entry.id]?.(page, step);
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
}
