// A teacher's own lesson without a rebuild (issue 18): a lesson file opened
// with the button or dropped on the page is checked with the parser the
// native tests use, every problem named by step and field; `?lesson-url=`
// fetches one; "Save as lesson" writes the current run as a lesson file
// that opens again and plays to its end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startApp } from '../lib/index.mjs';
import { takeLesson, lessonState, select } from './raftlab-page.mjs';

let app;
let dir;
before(async () => {
  app = await startApp();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'raftlab-own-lesson-'));
});
after(async () => {
  await app?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

/** A small lesson a teacher might write: a question, then a crash. */
const MINE = {
  id: 'my-first',
  title: 'My first lesson',
  speed: 0.2,
  setup: { seed: 3, nodes: 3 },
  steps: [
    {
      narration: 'Three servers start as followers.',
      question: {
        prompt: 'Will one of them become leader?',
        choices: ['Yes', 'No'],
        answer: 0,
        feedback: ['Right.', 'Watch.'],
      },
      wait_for: { kind: 'leader' },
    },
    {
      narration: 'Now the cluster runs on for a second.',
      wait_for: { kind: 'time', after_ms: 1000 },
    },
  ],
};

/** The same lesson with mistakes in two steps (and two in step 2). */
const BROKEN = {
  ...MINE,
  id: 'my-broken',
  steps: [
    { ...MINE.steps[0], wait_for: { kind: 'leadr' } },
    { ...MINE.steps[1], actions: [{ kind: 'crash', node: 12 }], highlight: { messages: ['vote'] } },
  ],
};

async function write(name, value) {
  const file = path.join(dir, name);
  await fs.writeFile(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
}

test('a lesson file opened with the button plays to its end, marked as your own', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?paused=1' });
  const input = page.locator('[data-testid="lesson-open-file"]');
  assert.equal(await input.getAttribute('type'), 'file');
  assert.match(await input.getAttribute('accept'), /\.json/);
  // Behind a visible control with a label, reachable with the keyboard.
  const label = page.locator('label.lesson-open');
  assert.ok(await label.isVisible());
  assert.match(await label.textContent(), /Open lesson file/);
  await input.focus();
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'lesson-open-file');

  await input.setInputFiles(await write('mine.json', MINE));
  await page.waitForSelector('[data-testid="lesson"][data-lesson="my-first"]');
  assert.match(await page.locator('[data-testid="lesson-own"]').textContent(), /from mine\.json/);
  assert.match(await page.locator('[data-testid="lesson-own-option"]').textContent(), /Your lesson: My first lesson/);
  const seen = await takeLesson(page, { answer: () => 0 });
  assert.equal(seen.length, 2);
  assert.equal((await lessonState(page)).status, 'finished');
  assertNoProblems();
  await page.close();
});

test('a broken lesson file names each problem by step and field, and loads nothing', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?paused=1' });
  await page.locator('[data-testid="lesson-open-file"]').setInputFiles(await write('broken.json', BROKEN));
  const panel = page.locator('[data-testid="lesson-file-problems"]');
  await panel.waitFor();
  const items = (await panel.locator('li').allTextContents()).map((t) => t.trim());
  assert.equal(items.length, 3, items.join('\n'));
  assert.match(items[0], /^step 1, wait_for: in "kind": "leadr" is not one of leader, /);
  assert.match(items[1], /^step 2, actions\[0\]: node ids run from 1 to 9, not 12/);
  assert.match(items[2], /^step 2, highlight\.messages: unknown message kind "vote"/);
  assert.match(await panel.textContent(), /broken\.json is not a lesson raftlab can play yet \(3 problems\)/);
  assert.equal(await page.locator('[data-testid="lesson"]').count(), 0, 'no half-loaded lesson');
  await page.screenshot({ path: path.join(dir, 'problems.png') });
  await page.click('[data-testid="lesson-file-problems-dismiss"]');
  assert.equal(await panel.count(), 0);
  assertNoProblems();
  await page.close();
});

test('dragging a file over the page shows a drop hint; dropping a lesson opens it', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?paused=1' });
  const text = JSON.stringify(MINE);
  const transfer = await page.evaluateHandle((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'dropped.json', { type: 'application/json' }));
    return dt;
  }, text);
  await page.dispatchEvent('.app', 'dragover', { dataTransfer: transfer });
  const hint = page.locator('[data-testid="drop-hint"]');
  await hint.waitFor();
  assert.match(await hint.textContent(), /Drop a lesson, session or trace file/);
  await page.dispatchEvent('.app', 'drop', { dataTransfer: transfer });
  await page.waitForSelector('[data-testid="lesson"][data-lesson="my-first"]');
  assert.equal(await hint.count(), 0);
  assert.match(await page.locator('[data-testid="lesson-own"]').textContent(), /from dropped\.json/);
  assertNoProblems();
  await page.close();
});

test('?lesson-url= opens a lesson from its address, with no first-visit line', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?lesson-url=/lessons/01-leader-election.json' });
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.waitForSelector('[data-testid="lesson"][data-lesson="leader-election"]');
  assert.match(await page.locator('[data-testid="lesson-own"]').textContent(), /from \/lessons\/01-leader-election\.json/);
  assert.equal(await page.locator('[data-testid="first-visit"]').count(), 0);
  assert.equal(await page.locator('[data-testid="url-notice"]').count(), 0);
  assertNoProblems();
  await page.close();
});

test('?lesson-url= to a missing file names the address and the HTTP status', async () => {
  const { page, problems } = await app.open({ path: '?lesson-url=/lessons/nope.json' });
  const notice = page.locator('[data-testid="url-notice"][data-param="lesson-url"]');
  await notice.waitFor();
  const text = await notice.textContent();
  assert.match(text, /\/lessons\/nope\.json/);
  assert.match(text, /HTTP 404/);
  assert.equal(await page.locator('[data-testid="lesson"]').count(), 0);
  assert.deepEqual(
    // The fetch's 404, as the response and as the browser's console line.
    problems.filter((p) => !p.includes('/lessons/nope.json') && !p.includes('status of 404 (Not Found)')),
    [],
    'only the expected 404',
  );
  await page.close();
});

test('?lesson= with ?lesson-url= says which wins', async () => {
  const { page, assertNoProblems } = await app.open({
    path: '?lesson=split-vote&lesson-url=/lessons/01-leader-election.json',
  });
  await page.waitForSelector('[data-testid="lesson"][data-lesson="leader-election"]');
  const notice = page.locator('[data-testid="url-notice"][data-param="lesson"]');
  assert.match(await notice.textContent(), /the lesson file at `lesson-url` opens, `lesson` is not read/);
  assertNoProblems();
  await page.close();
});

test('save as lesson downloads the run as a lesson that opens again and plays to its end', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?paused=1&seed=5' });
  await page.click('[data-testid="forward-1000"]');
  await page.click('[data-testid="forward-1000"]');
  await select(page, 2);
  await page.click('[data-testid="crash"]');
  await page.click('[data-testid="forward-1000"]');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="save-as-lesson"]')]);
  assert.match(download.suggestedFilename(), /^raftlab-lesson-seed5-\d+ms\.json$/);
  const file = path.join(dir, download.suggestedFilename());
  await download.saveAs(file);
  const saved = JSON.parse(await fs.readFile(file, 'utf8'));
  assert.equal(saved.setup.seed, 5);
  // An opening step, then the crash.
  assert.equal(saved.steps.length, 2);
  assert.deepEqual(saved.steps[1].actions, [{ kind: 'crash', node: 2 }]);
  assert.match(saved.steps[1].narration, /^Describe what happens after this step's action: crash S2\./);

  await page.locator('[data-testid="lesson-open-file"]').setInputFiles(file);
  await page.waitForSelector(`[data-testid="lesson"][data-lesson="${saved.id}"]`);
  await takeLesson(page);
  // The crash happened again, at its time.
  assert.equal(await page.locator('[data-testid="node-2"]').getAttribute('data-alive'), 'false');
  assertNoProblems();
  await page.close();
});
