// The modules the page fetches on demand (sharded mode, the experiment
// worker) are named after their content, so a redeployed dist/ never pairs a
// browser's cached old script with a new wasm: trunk's post_build hook
// (tools/hash-modules.sh) renames them, and the page requests exactly the
// names it wrote into index.html. Tests of the hook itself, of dist/, and of
// the page's requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { startApp, serveDist, launchBrowser, watchProblems, screenshot, REPO_ROOT, DIST_DIR } from '../lib/index.mjs';
import { moduleFiles, stemIn, stemPattern } from './modules.mjs';

const HOOK = path.join(REPO_ROOT, 'tools', 'hash-modules.sh');
const BINS = ['sharded-app', 'experiment-worker'];
const WORKER_SHIM = (bin) => `importScripts("./${bin}.js");wasm_bindgen("./${bin}_bg.wasm");`;
const PAGE = BINS.map((b) => `<meta name="raftlab-module-${b}" content="unhashed:${b}" />`).join('\n');

const tmpDirs = [];
function tmpDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raftlab-modules-'));
  tmpDirs.push(dir);
  return dir;
}

/** A staging folder as trunk leaves it before the hook: `files` by name. */
function staging(files) {
  const dir = tmpDir();
  for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), body);
  return dir;
}

/** The files of a staging folder trunk would write for the two modules. */
function trunkOutput({ shardedWasm = 'sharded wasm v1', workerWasm = 'worker wasm v1', page = PAGE } = {}) {
  return {
    'index.html': `<!doctype html><html><head>\n${page}\n</head></html>\n`,
    'sharded-app.js': 'var wasm_bindgen = function () {}; // sharded glue',
    'sharded-app_bg.wasm': shardedWasm,
    'experiment-worker.js': 'var wasm_bindgen = function () {}; // worker glue',
    'experiment-worker_bg.wasm': workerWasm,
    'experiment-worker_loader.js': WORKER_SHIM('experiment-worker'),
  };
}

/** Runs the hook on `dir` as trunk does; its exit status and output. */
function runHook(dir, bins = BINS, env = { TRUNK_STAGING_DIR: dir }) {
  const { TRUNK_STAGING_DIR: _, ...rest } = process.env;
  const r = spawnSync('sh', [HOOK, ...bins], { cwd: REPO_ROOT, env: { ...rest, ...env }, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

/** The stems the hook wrote into `dir`'s index.html. */
function stems(dir) {
  const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  return Object.fromEntries(BINS.map((b) => [b, stemIn(html, b)]));
}

const sha16 = (...bodies) => {
  const h = crypto.createHash('sha256');
  for (const b of bodies) h.update(b);
  return h.digest('hex').slice(0, 16);
};

after(() => {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

test('the hook names each module after the SHA-256 of its files, rewrites the loader and index.html, and leaves no unhashed file', () => {
  const input = trunkOutput();
  const dir = staging(input);
  const r = runHook(dir);
  assert.equal(r.status, 0, r.out);
  const s = stems(dir);
  const sharded = `sharded-app-${sha16(input['sharded-app.js'], input['sharded-app_bg.wasm'])}`;
  const worker = `experiment-worker-${sha16(
    input['experiment-worker.js'],
    input['experiment-worker_bg.wasm'],
    input['experiment-worker_loader.js'],
  )}`;
  assert.deepEqual(s, { 'sharded-app': sharded, 'experiment-worker': worker });
  assert.deepEqual(fs.readdirSync(dir).sort(), [
    `${worker}.js`,
    `${worker}_bg.wasm`,
    `${worker}_loader.js`,
    'index.html',
    `${sharded}.js`,
    `${sharded}_bg.wasm`,
  ].sort());
  // Renamed, not changed.
  assert.equal(fs.readFileSync(path.join(dir, `${sharded}_bg.wasm`), 'utf8'), input['sharded-app_bg.wasm']);
  assert.equal(fs.readFileSync(path.join(dir, `${worker}.js`), 'utf8'), input['experiment-worker.js']);
  // The loader loads the renamed files, relative to itself.
  assert.equal(
    fs.readFileSync(path.join(dir, `${worker}_loader.js`), 'utf8'),
    `importScripts("./${worker}.js");wasm_bindgen("./${worker}_bg.wasm");`,
  );
  assert.doesNotMatch(fs.readFileSync(path.join(dir, 'index.html'), 'utf8'), /unhashed:/);
});

test('the hook gives the same names to the same files, and a new name to a module whose content changed', () => {
  const once = staging(trunkOutput());
  const twice = staging(trunkOutput());
  assert.equal(runHook(once).status, 0);
  assert.equal(runHook(twice).status, 0);
  const first = stems(once);
  assert.deepEqual(stems(twice), first, 'same input, same names');
  for (const b of BINS) assert.match(first[b], stemPattern(b));

  // A new sharded wasm: its module is renamed, the worker keeps its names.
  const changed = staging(trunkOutput({ shardedWasm: 'sharded wasm v2' }));
  assert.equal(runHook(changed).status, 0);
  const second = stems(changed);
  assert.notEqual(second['sharded-app'], first['sharded-app']);
  assert.equal(second['experiment-worker'], first['experiment-worker']);

  // Only the glue changed: a new name as well (script and wasm go together).
  const glue = trunkOutput();
  glue['experiment-worker.js'] += ' // v2';
  const dir = staging(glue);
  assert.equal(runHook(dir).status, 0);
  assert.notEqual(stems(dir)['experiment-worker'], first['experiment-worker']);
  assert.equal(stems(dir)['sharded-app'], first['sharded-app']);
});

test('the hook fails the build, naming why, rather than leave names that do not follow the content', () => {
  const { 'sharded-app.js': _, ...noShardedJs } = trunkOutput();
  const cases = [
    ['no placeholder in index.html', staging(trunkOutput({ page: '<meta name="x" content="y" />' })), /placeholder unhashed:sharded-app exactly once.*found 0/],
    ['the placeholder twice', staging(trunkOutput({ page: `${PAGE}\n${PAGE}` })), /exactly once.*found 2/],
    ['a module trunk did not write', staging(noShardedJs), /no sharded-app\.js/],
    ['an empty wasm', staging(trunkOutput({ workerWasm: '' })), /experiment-worker\.js or experiment-worker_bg\.wasm is empty/],
    ['an unexpected loader shim', staging({ ...trunkOutput(), 'experiment-worker_loader.js': 'import init from "./x.js";' }), /does not load/],
  ];
  for (const [what, dir, why] of cases) {
    const r = runHook(dir);
    assert.notEqual(r.status, 0, `${what}: ${r.out}`);
    assert.match(r.out.replace(/\n/g, ' '), why, what);
  }
  const r = runHook(staging(trunkOutput()), BINS, {});
  assert.notEqual(r.status, 0);
  assert.match(r.out, /TRUNK_STAGING_DIR is not set/);
});

test('dist/ holds the on-demand modules under content-hashed names only, as the hook derives them from their content', () => {
  const names = fs.readdirSync(DIST_DIR);
  for (const b of BINS) {
    const files = moduleFiles(b);
    for (const f of [files.js, files.wasm]) assert.ok(names.includes(f), `${f} in dist/`);
    // Nothing under the unhashed names, nor a stale older stem.
    const of = names.filter((n) => n.startsWith(`${b}.`) || n.startsWith(`${b}_`) || n.startsWith(`${b}-`));
    assert.deepEqual(of.filter((n) => !n.startsWith(`${files.stem}.`) && !n.startsWith(`${files.stem}_`)), [], names.join(' '));
  }
  const worker = moduleFiles('experiment-worker');
  assert.equal(
    fs.readFileSync(path.join(DIST_DIR, worker.loader), 'utf8'),
    `importScripts("./${worker.js}");wasm_bindgen("./${worker.wasm}");`,
  );
  // Undo the renaming (trunk's output before the hook) and run the hook
  // again: the very same names, so they are a function of the content.
  const dir = unhashedCopy(DIST_DIR);
  assert.equal(runHook(dir).status, 0);
  assert.deepEqual(stems(dir), Object.fromEntries(BINS.map((b) => [b, moduleFiles(b).stem])));
});

/**
 * A copy of a built dist/ as trunk wrote it before the hook ran: the
 * modules under their binaries' names, the placeholders in index.html.
 */
function unhashedCopy(dist) {
  const dir = tmpDir();
  fs.cpSync(dist, dir, { recursive: true });
  let html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  for (const b of BINS) {
    const f = moduleFiles(b, dist);
    fs.renameSync(path.join(dir, f.js), path.join(dir, `${b}.js`));
    fs.renameSync(path.join(dir, f.wasm), path.join(dir, `${b}_bg.wasm`));
    if (fs.existsSync(path.join(dir, f.loader))) {
      fs.rmSync(path.join(dir, f.loader));
      fs.writeFileSync(path.join(dir, `${b}_loader.js`), WORKER_SHIM(b));
    }
    html = html.replace(`content="${f.stem}"`, `content="unhashed:${b}"`);
  }
  fs.writeFileSync(path.join(dir, 'index.html'), html);
  return dir;
}

/** Every file name (last part of the URL's path) a page and its workers request from now on. */
function requested(page) {
  const names = [];
  page.context().on('request', (r) => names.push(new URL(r.url()).pathname.split('/').pop()));
  return names;
}

/** Starts an experiment of 10 runs a setting and waits for it to finish. */
async function runExperiment(page) {
  await page.selectOption('[data-testid="experiment-runs"]', '10');
  await page.click('[data-testid="experiment-run"]');
  await page.waitForSelector('[data-testid="experiment-progress"][data-phase="finished"]', { timeout: 120_000 });
}

let app;
before(async () => {
  app = await startApp({ prefix: '/raftlab/' });
});
after(async () => {
  await app?.close();
});

test('the page requests the on-demand modules by the content-hashed names index.html gives, and both run', async () => {
  const sharded = moduleFiles('sharded-app');
  const worker = moduleFiles('experiment-worker');

  // Loaded and idle first: navigating away must not abort a request.
  const { page, assertNoProblems } = await app.open({ path: '?paused=1' });
  await page.waitForLoadState('networkidle');
  const names = requested(page);
  await page.goto(`${app.url}?mode=sharded&paused=1`);
  await page.waitForSelector('[data-testid="group-meta"]');
  await page.waitForLoadState('networkidle');
  const shardedNames = names.filter((n) => n.startsWith('sharded-app'));
  assert.deepEqual(shardedNames.sort(), [sharded.js, sharded.wasm].sort(), names.join(' '));

  names.length = 0;
  await page.goto(`${app.url}?paused=1`);
  await page.waitForSelector('[data-testid="node-1"]');
  await runExperiment(page);
  const workerNames = names.filter((n) => n.startsWith('experiment-worker'));
  assert.deepEqual(workerNames.sort(), [worker.loader, worker.js, worker.wasm].sort(), names.join(' '));
  assert.ok(!names.some((n) => n.startsWith('sharded-app')), 'the single-group page does not fetch sharded mode');
  assertNoProblems();
  await page.close();
});

test('after a redeploy with a changed module, the page asks for its new names and it still runs', async () => {
  // The same build, the sharded and worker wasm changed (a custom section
  // appended: still valid, different content), renamed by the hook.
  const dir = unhashedCopy(DIST_DIR);
  const section = (text) => {
    const name = Buffer.from('raftlab-redeploy');
    const payload = Buffer.concat([Buffer.from([name.length]), name, Buffer.from(text)]);
    return Buffer.concat([Buffer.from([0, payload.length]), payload]);
  };
  for (const b of BINS) fs.appendFileSync(path.join(dir, `${b}_bg.wasm`), section('v2'));
  assert.equal(runHook(dir).status, 0);
  const before = Object.fromEntries(BINS.map((b) => [b, moduleFiles(b).stem]));
  const after = stems(dir);
  for (const b of BINS) {
    assert.match(after[b], stemPattern(b));
    assert.notEqual(after[b], before[b], `${b}: new content, new name`);
  }

  const server = await serveDist({ root: dir, prefix: '/raftlab/' });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const watch = watchProblems(page);
    const names = requested(page);
    await page.goto(`${server.url}?mode=sharded&paused=1`);
    await page.waitForSelector('[data-testid="group-meta"]');
    await page.waitForLoadState('networkidle');
    await page.goto(`${server.url}?paused=1`);
    await page.waitForSelector('[data-testid="node-1"]');
    await runExperiment(page);
    const modules = names.filter((n) => BINS.some((b) => n.startsWith(b))).sort();
    const s = after['sharded-app'];
    const w = after['experiment-worker'];
    assert.deepEqual(modules, [`${s}.js`, `${s}_bg.wasm`, `${w}.js`, `${w}_bg.wasm`, `${w}_loader.js`].sort());
    watch.assertNone();
  } finally {
    await browser.close();
    await server.close();
  }
});

test('a build whose hook did not run fails loudly: neither module is fetched under unhashed names, and the page says why', async () => {
  // dist/ as trunk writes it without the hook: unhashed files, placeholders.
  const dir = unhashedCopy(DIST_DIR);
  const server = await serveDist({ root: dir, prefix: '/raftlab/' });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const names = requested(page);
    await page.goto(`${server.url}?mode=sharded&paused=1`);
    const failed = page.locator('[data-testid="mode-loading"][data-failed="true"]');
    await failed.waitFor();
    await screenshot(page, 'modules-unhashed-sharded');
    assert.match(await failed.textContent(), /Could not load sharded mode: this build did not name the sharded-app module after its content \("unhashed:sharded-app"\): .*hash-modules\.sh/);

    await page.goto(`${server.url}?paused=1`);
    await page.waitForSelector('[data-testid="node-1"]');
    await page.click('[data-testid="experiment-run"]');
    const progress = page.locator('[data-testid="experiment-progress"][data-phase="failed"]');
    await progress.waitFor();
    await page.locator('[data-testid="experiments"]').scrollIntoViewIfNeeded();
    await screenshot(page, 'modules-unhashed-experiment');
    assert.match(await progress.textContent(), /Could not start the experiment worker: this build did not name the experiment-worker module after its content/);
    assert.deepEqual(names.filter((n) => BINS.some((b) => n.startsWith(b))), [], 'no module file was requested');
  } finally {
    await browser.close();
    await server.close();
  }
});
