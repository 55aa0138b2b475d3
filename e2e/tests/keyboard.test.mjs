// Keyboard only (issue 20): every test here moves the focus and presses
// keys with page.keyboard alone, no clicks and no focus() calls; the page
// is read back from its data-* attributes and the focused element.
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

/** The focused element's data-testid ('' for none), and whether it sits in `within`. */
async function focused(page, within = null) {
  return page.evaluate((within) => {
    const a = document.activeElement;
    return {
      testid: a?.dataset?.testid ?? '',
      inside: within ? Boolean(a?.closest(within)) : false,
      tag: a?.tagName ?? '',
    };
  }, within);
}

/**
 * Presses Tab until the element matching `selector` has the focus, or
 * Shift+Tab when it comes before the focused element in the page.
 */
async function tabTo(page, selector, { max = 150 } = {}) {
  const back = await page.evaluate((s) => {
    const a = document.activeElement;
    const t = document.querySelector(s);
    if (!a || !t || a === document.body) return false;
    return Boolean(a.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_PRECEDING);
  }, selector);
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return i;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  assert.fail(`Tab never reached ${selector}`);
}

/** Presses `key` until `check()` holds, at most `max` times. */
async function pressUntil(page, key, what, check, max = 60) {
  for (let i = 0; i <= max; i++) {
    const v = await check();
    if (v) return v;
    await page.keyboard.press(key);
  }
  assert.fail(`never happened: ${what}`);
}

const byTestid = (id) => `[data-testid="${id}"]`;

test('keyboard only: crash the leader, partition, step back on the timeline, start a lesson and answer it', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?seed=12&paused=1' });
  // The first Tab stop is a skip link, shown when focused.
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).testid, 'skip-cluster');
  const box = await page.locator(byTestid('skip-cluster')).boundingBox();
  assert.ok(box && box.x >= 0 && box.y >= 0 && box.width > 20, 'the focused skip link is on screen');
  await screenshot('keyboard-skip-link');
  // Enter follows it: the cluster's column takes the focus.
  await page.keyboard.press('Enter');
  assert.ok((await focused(page, '.col.stage')).inside, 'the focus moved to the cluster');

  // f jumps 100 ms until a leader is elected; its digit selects it, c crashes it.
  const leader = await pressUntil(page, 'f', 'a leader is elected', async () => (await status(page)).leader);
  await page.keyboard.press(leader);
  assert.equal(await page.locator(byTestid(`node-${leader}`)).getAttribute('data-selected'), 'true');
  await page.keyboard.press('c');
  assert.equal(await page.locator(byTestid(`node-${leader}`)).getAttribute('data-alive'), 'false');
  // The ring's text alternative says so.
  assert.match(await page.locator(`${byTestid('ring-table')} tr[data-node="${leader}"]`).textContent(), /crashed/);

  // Move S1 to group B with Space on its chip, then Partition with Enter.
  await tabTo(page, byTestid('part-1'));
  await page.keyboard.press('Space');
  assert.equal(await page.locator(byTestid('part-1')).getAttribute('data-group'), 'B');
  await tabTo(page, byTestid('partition'));
  await page.keyboard.press('Enter');
  assert.match(await page.locator(byTestid('network-status')).textContent(), /partitioned/);

  // The timeline is a slider: ← steps back one event, End returns to the newest.
  await tabTo(page, byTestid('timeline'));
  const timeline = page.locator(byTestid('timeline'));
  const before = await status(page);
  const valueBefore = Number(await timeline.getAttribute('aria-valuenow'));
  await page.keyboard.press('ArrowLeft');
  const back = await status(page);
  assert.ok(Number(back.position) < Number(before.position), 'stepped back');
  assert.equal(back.inPast, 'true');
  assert.ok(Number(await timeline.getAttribute('aria-valuenow')) <= valueBefore);
  assert.match(await timeline.getAttribute('aria-valuetext'), /ms, after event \d+ at \d+ ms/);
  await page.keyboard.press('End');
  assert.equal((await status(page)).inPast, 'false', 'End goes to the newest known moment');
  await page.keyboard.press('Home');
  assert.equal((await status(page)).now, '0', 'Home goes back to the start');
  assert.equal(await timeline.getAttribute('aria-valuenow'), await timeline.getAttribute('aria-valuemin'));
  await page.keyboard.press('PageUp');
  assert.ok(Number(await timeline.getAttribute('aria-valuenow')) > 0, 'Page Up goes a tenth ahead');

  // The lesson menu: ArrowDown only browses; Enter starts the lesson.
  await tabTo(page, byTestid('lesson-picker'));
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.locator(byTestid('lesson-picker')).inputValue(), 'leader-election');
  await page.keyboard.press('ArrowDown');
  await page.waitForTimeout(300);
  assert.equal(await page.locator(byTestid('lesson')).count(), 0, 'an arrow key starts nothing');
  // Leaving without Enter puts the menu back as it was.
  await page.keyboard.press('Shift+Tab');
  assert.equal(await page.locator(byTestid('lesson-picker')).inputValue(), '');
  await page.keyboard.press('Tab');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid="lesson"][data-lesson="leader-election"]');

  // The skip link to the lesson, then Tab to the right answer, pressed with Space.
  await tabTo(page, byTestid('skip-lesson'));
  await page.keyboard.press('Enter');
  assert.ok((await focused(page, byTestid('lesson'))).inside, 'the focus moved to the lesson');
  await tabTo(page, byTestid('choice-1'));
  await page.keyboard.press('Space');
  await page.waitForSelector('[data-testid="lesson-feedback"][data-correct="true"]');
  // (Answering resumes the lesson's clock: that is the lesson's doing.)
  assert.equal(await page.locator(byTestid('lesson-question')).getAttribute('data-answered'), 'true');
  assertNoProblems();
  await page.close();
});

test('Space on a focused button presses it and leaves the clock as it was', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=3&paused=1' });
  await tabTo(page, byTestid('part-2'));
  await page.keyboard.press('Space');
  assert.equal(await page.locator(byTestid('part-2')).getAttribute('data-group'), 'B', 'Space pressed the chip');
  assert.equal((await status(page)).playing, 'false', 'paused stays paused');
  // Playing, Space on the chip presses it again and the clock plays on.
  await tabTo(page, byTestid('play'));
  await page.keyboard.press('Enter');
  assert.equal((await status(page)).playing, 'true');
  await tabTo(page, byTestid('part-2'));
  await page.keyboard.press('Space');
  assert.equal(await page.locator(byTestid('part-2')).getAttribute('data-group'), 'C');
  assert.equal((await status(page)).playing, 'true', 'playing stays playing');
  // Enter on a summary opens the list of links; Space on a Cut button cuts one.
  await tabTo(page, `${byTestid('links')} > summary`);
  await page.keyboard.press('Enter');
  await tabTo(page, byTestid('link-cut-1-2'));
  await page.keyboard.press('Space');
  // While playing the panels are redrawn a few times a second.
  await page.waitForSelector('[data-testid="link-row-1-2"][data-state="cut"]');
  assert.match(await page.locator(byTestid('network-status')).textContent(), /1 link\(s\) cut/);
  assert.equal((await status(page)).playing, 'true');
  assert.equal((await focused(page)).testid, 'link-cut-1-2', 'the button kept the focus');
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid="link-row-1-2"][data-state="up"]');
  assertNoProblems();
  await page.close();
});

test('a message on its way is dropped from the delivery panel by keyboard', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=5&paused=1' });
  await page.keyboard.press('Tab');
  // Jump until messages fly (the first election's votes).
  await pressUntil(page, 'f', 'a message is on its way', () =>
    page.evaluate(() => Number(document.querySelector('[data-testid="in-flight"]').dataset.count) > 0),
  );
  // Closed, the list draws no rows; opened, it lists them.
  assert.equal(await page.locator('[data-testid="in-flight"] li').count(), 0);
  await tabTo(page, `${byTestid('in-flight')} > summary`);
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid="in-flight"] li');
  const first = await page.evaluate(() => document.querySelector('[data-testid="in-flight"] li').dataset.id);
  await tabTo(page, byTestid(`drop-${first}`));
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    (id) => !document.querySelector(`[data-testid="in-flight"] li[data-id="${id}"]`),
    first,
  );
  const dropped = await page.evaluate(
    (id) => [...document.querySelectorAll('[data-testid="msg"]')].some((m) => m.dataset.id === id),
    first,
  );
  assert.equal(dropped, false, 'the drawing no longer carries it');
  assertNoProblems();
  await page.close();
});

test('the help dialog is modal and switches the shortcuts off, remembered', async () => {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?seed=12&paused=1' });
  await tabTo(page, byTestid('help-open'));
  await page.keyboard.press('Enter');
  await page.waitForSelector('[role="dialog"][aria-modal="true"]');
  assert.ok((await focused(page, '[role="dialog"]')).inside, 'the focus moved into the dialog');
  // Tab goes round inside.
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('Tab');
    assert.ok((await focused(page, '[role="dialog"]')).inside, `Tab ${i + 1} stays in the dialog`);
  }
  await page.keyboard.press('Shift+Tab');
  assert.ok((await focused(page, '[role="dialog"]')).inside, 'Shift+Tab stays in the dialog');
  await tabTo(page, byTestid('shortcuts-switch'));
  await page.keyboard.press('Space');
  assert.equal(await page.locator(byTestid('shortcuts-switch')).isChecked(), false);
  await screenshot('keyboard-help');
  await page.keyboard.press('Escape');
  assert.equal(await page.locator(byTestid('help')).count(), 0);
  assert.equal((await focused(page)).testid, 'help-open', 'the focus went back to the opener');
  // Off: a digit selects nothing, even after a reload.
  await page.keyboard.press('3');
  assert.equal(await page.locator(byTestid('node-3')).getAttribute('data-selected'), 'false');
  await page.reload();
  await page.waitForSelector(byTestid('node-1'));
  await page.keyboard.press('3');
  assert.equal(await page.locator(byTestid('node-3')).getAttribute('data-selected'), 'false', 'remembered');
  // The arrows still step; then switch the shortcuts back on.
  await page.keyboard.press('ArrowRight');
  assert.ok(Number((await status(page)).position) > 0, '→ stepped');
  await tabTo(page, byTestid('help-open'));
  await page.keyboard.press('Enter');
  await tabTo(page, byTestid('shortcuts-switch'));
  await page.keyboard.press('Space');
  await page.keyboard.press('Escape');
  await page.keyboard.press('3');
  assert.equal(await page.locator(byTestid('node-3')).getAttribute('data-selected'), 'true');
  // Typed into a field, the same keys are text.
  await tabTo(page, byTestid('client-key'));
  await page.keyboard.press('Control+A');
  await page.keyboard.type('c1 h');
  assert.equal(await page.locator(byTestid('client-key')).inputValue(), 'c1 h');
  assert.equal(await page.locator(byTestid('node-3')).getAttribute('data-alive'), 'true', 'c in a field crashed nothing');
  assert.equal(await page.locator(byTestid('node-3')).getAttribute('data-selected'), 'true', '1 in a field selected nothing');
  assertNoProblems();
  await page.close();
});

test('stepping is announced in a polite live region, which a switch silences', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=12&paused=1' });
  const announcer = page.locator(byTestid('announcer'));
  assert.equal(await announcer.getAttribute('aria-live'), 'polite');
  assert.equal(await page.locator(byTestid('status')).getAttribute('aria-live'), 'polite');
  // Each step says its newest event, the one the timeline stands after.
  for (let i = 0; i < 3; i++) {
    await page.keyboard.press('ArrowRight');
    const position = (await status(page)).position;
    assert.equal(await announcer.getAttribute('data-seq'), position);
    assert.match(await announcer.textContent(), /^\d+ ms: \S/);
  }
  // The caption's words, when it shows the same event.
  const caption = page.locator(byTestid('ring-caption'));
  if ((await caption.getAttribute('data-seq')) === (await announcer.getAttribute('data-seq'))) {
    const words = (await caption.locator('.ev-text').textContent()).trim();
    assert.ok((await announcer.textContent()).endsWith(words));
  }
  await page.keyboard.press('ArrowLeft');
  assert.match(await announcer.textContent(), /^Back to /, 'a step back says so');
  // Switched off in the help dialog: silent.
  await page.keyboard.press('?');
  await tabTo(page, byTestid('announce-switch'));
  await page.keyboard.press('Space');
  await page.keyboard.press('Escape');
  await page.keyboard.press('ArrowRight');
  assert.equal(await announcer.textContent(), '');
  await page.keyboard.press('?');
  await tabTo(page, byTestid('announce-switch'));
  await page.keyboard.press('Space');
  await page.keyboard.press('Escape');
  await page.keyboard.press('ArrowRight');
  assert.match(await announcer.textContent(), /^\d+ ms: /, 'switched on again, it speaks');
  // The ring's table lists every node with its role as the drawing shows it.
  const rows = await page.locator(`${byTestid('ring-table')} tbody tr`).count();
  assert.equal(rows, await page.locator('[data-testid^="ring-node-"]').count());
  assertNoProblems();
  await page.close();
});
