// Where things are: the repository, the built app, and the screenshots.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root (e2e/ is one level below it). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The release build the tests run against: `$RAFTLAB_DIST`, else `<repo>/dist`. */
export const DIST_DIR = process.env.RAFTLAB_DIST
  ? path.resolve(process.env.RAFTLAB_DIST)
  : path.join(REPO_ROOT, 'dist');

/** Where screenshots go: `<repo>/target/e2e/<name>.png`. */
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'target', 'e2e');

/** Debian's Chromium, unless `$CHROMIUM_PATH` names another. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
