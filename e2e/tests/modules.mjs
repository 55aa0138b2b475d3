// The modules the page fetches on demand (sharded mode, the experiment
// worker) and the names of their files in dist/: trunk's post_build hook
// (tools/hash-modules.sh) names them BIN-<16 hex digits of their content's
// SHA-256> and writes that stem into index.html's
// <meta name="raftlab-module-BIN">, which the page reads.
import fs from 'node:fs';
import path from 'node:path';
import { DIST_DIR } from '../lib/index.mjs';

/** What a module's files are named: `BIN-<digest>`, the digest apart. */
export const stemPattern = (bin) => new RegExp(`^${bin}-([0-9a-f]{16})$`);

/** The stem index.html (`html`, default dist/'s) names for `bin`, or null. */
export function stemIn(html, bin) {
  const meta = html.match(new RegExp(`<meta name="raftlab-module-${bin}" content="([^"]*)"`));
  return meta ? meta[1] : null;
}

/**
 * The files of `bin` as dist/index.html names them; throws if its stem is
 * not content-hashed (the hook did not run).
 */
export function moduleFiles(bin, dist = DIST_DIR) {
  const stem = stemIn(fs.readFileSync(path.join(dist, 'index.html'), 'utf8'), bin);
  if (!stem || !stemPattern(bin).test(stem)) {
    throw new Error(`dist/index.html names ${bin} "${stem}", not ${bin}-<digest>: run cargo xtask build`);
  }
  return { stem, js: `${stem}.js`, wasm: `${stem}_bg.wasm`, loader: `${stem}_loader.js` };
}
