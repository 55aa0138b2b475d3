// Every lesson listed in static/lessons/index.json plays to its end in the
// page: the student's controls only (answer, skip to end of step, next),
// right answers checked against the feedback, no console errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startApp, REPO_ROOT } from '../lib/index.mjs';
import { lessonState, playLesson } from './raftlab-page.mjs';

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

for (const entry of index) {
  test(`lesson ${entry.id} runs to its end`, async () => {
    const lesson = JSON.parse(fs.readFileSync(path.join(LESSONS, entry.file), 'utf8'));
    const { page, assertNoProblems, screenshot } = await app.open({ path: `?lesson=${entry.id}&paused=1` });
    await page.waitForSelector(`[data-testid="lesson"][data-lesson="${entry.id}"]`);
    const first = await lessonState(page);
    assert.equal(first.steps, String(lesson.steps.length));
    assert.equal(first.step, '1');
    // Narration is drawn from the file, emphasis and all.
    const narration = await page.locator('[data-testid="lesson-narration"]').textContent();
    assert.ok(narration.length > 20, 'narration shown');
    let shots = 0;
    const seen = await playLesson(page, {
      answer: (i) => lesson.steps[i].question.answer,
      onStep: async (s) => {
        const step = lesson.steps[Number(s.index)];
        if (step.question) {
          const fb = page.locator('[data-testid="lesson-feedback"]');
          assert.equal(await fb.getAttribute('data-correct'), 'true', `step ${s.step}: the right answer is praised`);
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

