// Sessions and traces: a shared link opened in a fresh browser reproduces
// the run; a session file downloads and opens again; a trace from
// `raftlab run --chaos` loads and replays event for event; bad links and
// files say so on screen and leave the current run alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startApp, REPO_ROOT } from '../lib/index.mjs';
import { electLeader, inFreshBrowser, select, snapshotOfPage, status } from './raftlab-page.mjs';

const FIXTURE = path.join(REPO_ROOT, 'e2e', 'fixtures', 'chaos-seed3.jsonl');
const CLI = path.join(REPO_ROOT, 'target', 'fast', 'raftlab');

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

/** A run with a crash and a client write, paused at some moment. */
async function makeRun(page) {
  const leader = await electLeader(page);
  await select(page, leader);
  await page.click('[data-testid="crash"]');
  await page.click('[data-testid="forward-1000"]');
  await page.fill('[data-testid="client-key"]', 'x');
  await page.fill('[data-testid="client-value"]', '7');
  await page.click('[data-testid="put"]');
  await page.click('[data-testid="forward-100"]');
  await page.click('[data-testid="forward-10"]');
}

test('a shared link opened in a fresh browser reproduces the same run', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=4&paused=1' });
  await makeRun(page);
  const here = await snapshotOfPage(page);
  const at = await status(page);
  await page.click('[data-testid="copy-link"]');
  const link = await page.locator('[data-testid="session-link"]').inputValue();
  assert.match(link, /#s=[A-Za-z0-9_-]+$/);
  assert.equal(page.url(), link, 'the address bar holds the link');
  assertNoProblems();
  await page.close();

  // A separate browser: nothing shared but the link.
  await inFreshBrowser(link, async (fresh) => {
    const there = await snapshotOfPage(fresh);
    assert.equal((await status(fresh)).now, at.now, 'same moment');
    assert.deepEqual(there.nodes, here.nodes, 'every node the same');
    assert.deepEqual(there.rows, here.rows, 'every log the same');
    assert.deepEqual(there.cells, here.cells);
    assert.deepEqual(there.msgs, here.msgs, 'the same messages in flight');
  });
});

test('a session file downloads and opens to the same run', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=9&paused=1' });
  await makeRun(page);
  const here = await snapshotOfPage(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="download-session"]')]);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'raftlab-')), download.suggestedFilename());
  await download.saveAs(file);
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(json.format, 'raftlab-session');
  assert.equal(json.seed, 9);
  assert.ok(json.actions.length >= 2, 'the crash and the put are in it');
  await page.close();

  const { page: p2, assertNoProblems: ok2 } = await app.open({ path: '?seed=1&paused=1' });
  await p2.setInputFiles('[data-testid="open-session"]', file);
  await p2.waitForSelector('[data-testid="source"][data-kind="session file"]');
  const there = await snapshotOfPage(p2);
  assert.deepEqual(there.nodes, here.nodes);
  assert.deepEqual(there.rows, here.rows);
  assertNoProblems();
  ok2();
  await p2.close();
});

test('a damaged link or file is reported and the run stays', async () => {
  const { page, problems } = await app.open({ path: '?seed=2&paused=1#s=AAAAnot-a-session' });
  const notice = page.locator('[data-testid="notice"]');
  await notice.waitFor();
  assert.match(await notice.textContent(), /could not be opened/);
  await page.click('[data-testid="forward-1000"]');
  const before = await snapshotOfPage(page);
  await page.setInputFiles('[data-testid="open-session"]', {
    name: 'broken.json',
    mimeType: 'application/json',
    buffer: Buffer.from('{"format":"raftlab-session","version":1,"seed":'),
  });
  await page.waitForFunction(() => /broken\.json/.test(document.querySelector('[data-testid="notice"]')?.textContent ?? ''));
  assert.match(await notice.textContent(), /unchanged/);
  assert.match(await notice.textContent(), /cut short: its JSON stops at line 1/);
  // Garbage (a picture picked by mistake) is named in plain words, with
  // the line, and blames no session file.
  await page.setInputFiles('[data-testid="open-session"]', {
    name: 'photo.png',
    mimeType: 'image/png',
    buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00]),
  });
  await page.waitForFunction(() => /photo\.png/.test(document.querySelector('[data-testid="notice"]')?.textContent ?? ''));
  const said = await notice.textContent();
  assert.match(said, /This is not a raftlab trace or session: line 1 is not JSON/i);
  assert.doesNotMatch(said, /expected value|column/);
  assert.match(said, /unchanged/);
  await page.setInputFiles('[data-testid="load-trace"]', {
    name: 'nonsense.jsonl',
    mimeType: 'text/plain',
    buffer: Buffer.from('{"type":"header","format":"raftlab-trace","version":99}\n'),
  });
  await page.waitForFunction(() => /nonsense\.jsonl/.test(document.querySelector('[data-testid="notice"]')?.textContent ?? ''));
  assert.deepEqual(await snapshotOfPage(page), before, 'the current run is untouched');
  assert.deepEqual(problems, [], 'no console errors');
  await page.close();
});

test('the trace exports as format v1', async () => {
  const { page, assertNoProblems } = await app.open({ path: '?seed=3&paused=1' });
  await page.click('[data-testid="forward-1000"]');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-trace"]')]);
  const text = fs.readFileSync(await download.path(), 'utf8');
  const lines = text.trim().split('\n');
  const header = JSON.parse(lines[0]);
  assert.equal(header.format, 'raftlab-trace');
  assert.equal(header.version, 1);
  assert.equal(header.seed, 3);
  assert.equal(String(lines.length - 1), (await status(page)).events);
  assertNoProblems();
  await page.close();
});

/** Loads `file` through the trace input and checks the replay. */
async function loadTrace(file, shot) {
  const { page, assertNoProblems, screenshot } = await app.open({ path: '?paused=1' });
  const events = fs.readFileSync(file, 'utf8').trim().split('\n').length - 1;
  await page.setInputFiles('[data-testid="load-trace"]', file);
  const source = page.locator('[data-testid="source"][data-kind="trace"]');
  await source.waitFor({ timeout: 30_000 });
  assert.equal(await source.getAttribute('data-match'), 'true', await source.textContent());
  const s = await status(page);
  assert.equal(s.events, String(events), 'the whole run is known');
  assert.equal(s.now, '0', 'and ready to replay from the start');
  assert.ok(Number(s.position) < 50, 'only the start-up events are behind');
  // Replay: the clock runs through the trace's own events.
  await page.click('[data-testid="forward-1000"]');
  const later = await status(page);
  assert.ok(Number(later.position) > 0 && Number(later.position) <= events);
  assert.ok(Number(await page.locator('[data-testid="spacetime"]').getAttribute('data-arrows')) > 0);
  if (shot) await screenshot(shot);
  assertNoProblems();
  await page.close();
}

test('a chaos trace from raftlab run loads and replays (fixture)', async () => {
  await loadTrace(FIXTURE, 'trace-replay');
});

test('a chaos trace made now by the CLI loads and replays', { skip: !fs.existsSync(CLI) && 'no target/fast/raftlab (cargo build --profile fast -p raftlab-cli)' }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raftlab-trace-'));
  const file = path.join(dir, 'chaos3.jsonl');
  execFileSync(CLI, ['run', '--chaos', '--seed', '3', '--until', '10s', '--trace', file], { stdio: 'ignore' });
  await loadTrace(file);
});
