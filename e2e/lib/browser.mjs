// Headless Chromium (Debian's, never a downloaded one) driven by
// playwright-core, plus the page checks every test wants.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_PATH, SCREENSHOT_DIR } from './paths.mjs';

/**
 * Chromium's flags. The networking ones keep Chromium from phoning home
 * (this machine has no network but the package registries). Playwright
 * adds the fresh `--user-data-dir` itself (see launchBrowser).
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Starts headless Chromium with a fresh profile in a temporary directory.
 *
 * @param {object} [options] extra playwright context options (viewport, ...)
 * @returns {Promise<{context: import('playwright-core').BrowserContext, newPage: () => Promise<import('playwright-core').Page>, close: () => Promise<void>}>}
 *   `close()` stops Chromium and deletes the profile.
 */
export async function launchBrowser(options = {}) {
  try {
    await fs.access(CHROMIUM_PATH);
  } catch {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: install it (apt-get install -y chromium chromium-driver) ` +
        'or set CHROMIUM_PATH; `cargo xtask setup` does this',
    );
  }
  const userDataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'raftlab-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
    ...options,
  });
  return {
    context,
    newPage: () => context.newPage(),
    close: async () => {
      await context.close();
      await fs.rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Records what goes wrong on a page: console errors, uncaught exceptions,
 * requests that fail, and responses with status 400 or above.
 *
 * @param {import('playwright-core').Page} page
 * @returns {{problems: string[], assertNone: () => void}} `problems` grows as
 *   the page runs; `assertNone()` throws listing them all.
 */
export function watchProblems(page) {
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught exception: ${err.message}`));
  page.on('requestfailed', (req) =>
    problems.push(`request failed: ${req.method()} ${req.url()} (${req.failure()?.errorText})`),
  );
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
  });
  return {
    problems,
    assertNone() {
      if (problems.length > 0) {
        throw new Error(`the page had ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
      }
    },
  };
}

/**
 * Saves a full-page screenshot as `target/e2e/<name>.png` and returns its path.
 *
 * @param {import('playwright-core').Page} page
 * @param {string} name letters, digits, '-' and '_' only
 */
export async function screenshot(page, name) {
  if (!/^[\w-]+$/.test(name)) throw new Error(`bad screenshot name ${JSON.stringify(name)}`);
  await fs.mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
