// A tiny static file server for dist/, on 127.0.0.1 and a free port.
//
// It serves like any plain web host would, so the tests prove that dist/
// needs nothing special: files by path, index.html for a directory, correct
// MIME types (application/wasm matters for streaming compilation), 404 for
// anything else. With `prefix` the site lives under a sub-path such as
// /raftlab/ and everything outside it is a 404, which catches absolute
// asset paths.
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DIST_DIR } from './paths.mjs';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Serves `root` (default: dist/) over HTTP on 127.0.0.1 at a free port.
 *
 * @param {object} [options]
 * @param {string} [options.root] directory to serve (default DIST_DIR)
 * @param {string} [options.prefix] URL path the site lives under, e.g. '/raftlab/' (default '/')
 * @returns {Promise<{url: string, origin: string, port: number, requests: {method: string, path: string, status: number}[], close: () => Promise<void>}>}
 *   `url` is the site's address (origin + prefix); `requests` logs every request served.
 */
export async function serveDist({ root = DIST_DIR, prefix = '/' } = {}) {
  if (!prefix.startsWith('/') || !prefix.endsWith('/')) {
    throw new Error(`prefix must start and end with '/', got ${JSON.stringify(prefix)}`);
  }
  try {
    await fs.access(path.join(root, 'index.html'));
  } catch {
    throw new Error(`${root}/index.html is missing: build the app first (cargo xtask build)`);
  }
  const requests = [];
  const server = http.createServer(async (req, res) => {
    const status = await respond(root, prefix, req, res);
    requests.push({ method: req.method, path: req.url, status });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: origin + prefix,
    origin,
    port,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function respond(root, prefix, req, res) {
  const send = (status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
    res.end(req.method === 'HEAD' ? undefined : body);
    return status;
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return send(405, 'method not allowed\n', { allow: 'GET, HEAD' });
  }
  let pathname;
  try {
    pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  } catch {
    return send(400, 'bad request\n');
  }
  if (pathname === prefix.slice(0, -1) && prefix !== '/') {
    // /raftlab -> /raftlab/, as web servers do for directories.
    return send(301, '', { location: prefix });
  }
  if (!pathname.startsWith(prefix)) {
    return send(404, 'not found\n');
  }
  let file = path.join(root, pathname.slice(prefix.length));
  if (path.relative(root, file).startsWith('..')) {
    return send(404, 'not found\n');
  }
  try {
    let stat = await fs.stat(file);
    if (stat.isDirectory()) {
      file = path.join(file, 'index.html');
      stat = await fs.stat(file);
    }
    const body = await fs.readFile(file);
    const type = MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    return send(200, body, { 'content-type': type, 'content-length': stat.size, 'cache-control': 'no-store' });
  } catch {
    return send(404, 'not found\n');
  }
}
