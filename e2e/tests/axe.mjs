// axe-core (the npm package in e2e/node_modules, never fetched from the
// network) injected into a page, and a check that reads its verdict against
// the list of accepted findings that docs/accessibility.md explains.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(path.join(path.dirname(require.resolve('axe-core')), 'axe.min.js'), 'utf8');

/**
 * The rule sets checked: WCAG 2.0, 2.1 and 2.2 at levels A and AA, and
 * axe's best practices (where `region` and `landmark-unique` live).
 */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

/**
 * Findings of impact moderate or minor that the page keeps on purpose, by
 * axe rule id, each with its reason in docs/accessibility.md ("Known
 * exceptions"). Any other finding fails; so does a serious or critical one
 * whatever its rule.
 */
export const ALLOWED = new Set([]);

/** Runs axe on the whole page as it is now; returns its violations. */
export async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.addScriptTag({ content: AXE_SOURCE });
  }
  return page.evaluate(async (tags) => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
    }));
  }, AXE_TAGS);
}

/** One violation as a readable paragraph: rule, impact, where, why. */
export function describe(v) {
  const where = v.nodes
    .slice(0, 6)
    .map((n) => `    ${n.target}\n      ${(n.summary ?? '').replace(/\n/g, '\n      ')}`)
    .join('\n');
  const more = v.nodes.length > 6 ? `\n    … and ${v.nodes.length - 6} more` : '';
  return `  ${v.id} (${v.impact}, ${v.nodes.length} element(s)): ${v.help}\n${where}${more}`;
}

/**
 * The violations that fail the check: every serious or critical one, and
 * every other one whose rule is not in `allowed`.
 */
export function failing(violations, allowed = ALLOWED) {
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical' || !allowed.has(v.id));
}
