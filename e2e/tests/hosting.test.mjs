// dist/ works from any folder of any static web server: asset paths are
// relative, so the app also runs under a sub-path such as /raftlab/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { startApp, serveDist, DIST_DIR } from '../lib/index.mjs';
import { moduleFiles } from './modules.mjs';

let app;
before(async () => {
  app = await startApp({ prefix: '/raftlab/' });
});
after(async () => {
  await app?.close();
});

test('the app runs when hosted under /raftlab/', async () => {
  const { page, assertNoProblems } = await app.open();
  await page.waitForLoadState('networkidle');
  assert.equal(await page.locator('[data-testid^="node-"]').count(), 5);
  assertNoProblems();
  const outside = app.server.requests.filter((r) => !r.path.startsWith('/raftlab/'));
  assert.deepEqual(outside, [], 'every request stays under /raftlab/');
  const wasm = app.server.requests.filter((r) => r.path.endsWith('.wasm'));
  assert.equal(wasm.length, 1, 'the wasm module was fetched once');
  assert.equal(wasm[0].status, 200);
  assert.ok(!wasm[0].path.includes('sharded-app'), 'sharded mode is not fetched');
  await page.close();
});

test('sharded mode, a module fetched on demand, runs when hosted under /raftlab/', async () => {
  const seen = app.server.requests.length;
  const { page, assertNoProblems } = await app.open({ path: '?mode=sharded&paused=1' });
  await page.waitForSelector('[data-testid="group-meta"]');
  await page.waitForLoadState('networkidle');
  assertNoProblems();
  const requests = app.server.requests.slice(seen);
  assert.deepEqual(requests.filter((r) => !r.path.startsWith('/raftlab/')), [], 'every request stays under /raftlab/');
  // Under the content-hashed names index.html gives (modules.mjs).
  const { js, wasm } = moduleFiles('sharded-app');
  for (const f of [js, wasm]) {
    const hits = requests.filter((r) => r.path === `/raftlab/${f}`);
    assert.deepEqual(hits.map((r) => r.status), [200], `${f} fetched once`);
  }
  await page.close();
});

test('dist/index.html refers to its assets by relative paths only', async () => {
  const html = await fs.readFile(path.join(DIST_DIR, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/\b(?:href|src|module_or_path)\s*[=:]\s*["']([^"']+)["']/g)].map((m) => m[1]);
  const imports = [...html.matchAll(/\bfrom\s+["']([^"']+)["']/g)].map((m) => m[1]);
  const all = [...refs, ...imports];
  assert.ok(all.some((r) => r.endsWith('.wasm')), `index.html names the wasm module: ${all.join(', ')}`);
  for (const ref of all) {
    assert.ok(ref.startsWith('./'), `asset reference ${ref} is relative`);
    await fs.access(path.join(DIST_DIR, ref));
  }
  // The modules fetched on demand: the page makes their names relative
  // (./<stem>.js) from the stems index.html gives; their files sit next to it.
  for (const bin of ['sharded-app', 'experiment-worker']) {
    const { js, wasm } = moduleFiles(bin);
    for (const f of [js, wasm]) await fs.access(path.join(DIST_DIR, f));
  }
});

test('the test server serves nothing outside its prefix or its folder', async () => {
  const server = await serveDist({ prefix: '/raftlab/' });
  const get = (p) =>
    new Promise((resolve, reject) =>
      http.get({ host: '127.0.0.1', port: server.port, path: p }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject),
    );
  try {
    assert.equal(await get('/raftlab/'), 200);
    assert.equal(await get('/raftlab/index.html'), 200);
    assert.equal(await get('/raftlab'), 301);
    assert.equal(await get('/index.html'), 404);
    assert.equal(await get('/raftlab/no-such-file.js'), 404);
    assert.equal(await get('/raftlab/%2e%2e/Cargo.toml'), 404);
    assert.equal(await get('/raftlab/..%2fCargo.toml'), 404);
  } finally {
    await server.close();
  }
});
