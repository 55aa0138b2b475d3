// The helpers browser tests import: `import { startApp } from '../lib/index.mjs'`.
// See e2e/README.md for how to write a test.
import { serveDist } from './server.mjs';
import { launchBrowser, watchProblems, screenshot } from './browser.mjs';

export { serveDist } from './server.mjs';
export { launchBrowser, watchProblems, screenshot, CHROMIUM_ARGS } from './browser.mjs';
export { REPO_ROOT, DIST_DIR, SCREENSHOT_DIR, CHROMIUM_PATH } from './paths.mjs';

/** The selector that shows the app has rendered: the first node of the cluster. */
export const READY_SELECTOR = '[data-testid="node-1"]';

/**
 * Serves dist/ and starts Chromium: one per test file, shared by its tests.
 *
 * @param {object} [options]
 * @param {string} [options.prefix] serve the site under this sub-path (default '/')
 * @returns {Promise<App>}
 *
 * @typedef {object} App
 * @property {string} url the app's address
 * @property {Awaited<ReturnType<typeof serveDist>>} server the static server (its `requests` log)
 * @property {(options?: {path?: string, ready?: string|null}) => Promise<OpenedPage>} open
 *   opens a new tab at `url + path` and waits until `ready` (default READY_SELECTOR; null: just the load event)
 * @property {() => Promise<void>} close stops Chromium and the server
 *
 * @typedef {object} OpenedPage
 * @property {import('playwright-core').Page} page
 * @property {string[]} problems console errors, exceptions and failed requests so far
 * @property {() => void} assertNoProblems throws if `problems` is not empty
 * @property {(name: string) => Promise<string>} screenshot saves target/e2e/<name>.png
 */
export async function startApp({ prefix = '/' } = {}) {
  const server = await serveDist({ prefix });
  let browser;
  try {
    browser = await launchBrowser();
  } catch (err) {
    await server.close();
    throw err;
  }
  return {
    url: server.url,
    server,
    async open({ path = '', ready = READY_SELECTOR } = {}) {
      const page = await browser.newPage();
      const watch = watchProblems(page);
      await page.goto(server.url + path, { waitUntil: 'load' });
      if (ready) await page.waitForSelector(ready, { timeout: 15_000 });
      return {
        page,
        problems: watch.problems,
        assertNoProblems: watch.assertNone,
        screenshot: (name) => screenshot(page, name),
      };
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
