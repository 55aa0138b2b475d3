// The lessons after the first 23 taken to their end with only answers and
// Next (see lesson-run.mjs): the three that direct the protocol by hand
// (issue 19). In the Figure 8 lesson, the logs the page draws at the end
// of each state (a) to (e) are the figure's (core/tests/figure8_paper.rs
// checks the same run natively).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from '../lib/index.mjs';
import { later, everyLessonReachesItsEnd } from './lesson-run.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

/** Figure 8 of the Raft paper (§5.4.2): S1..S5's logs as terms by index. */
const FIGURE8 = {
  '(a)': [[1, 2], [1, 2], [1], [1], [1]],
  '(b)': [[1, 2], [1, 2], [1], [1], [1, 3]],
  '(c)': [[1, 2, 4], [1, 2], [1, 2], [1], [1, 3]],
  // S5 also holds its own term-5 no-op at index 3, which the figure does
  // not draw (the narration says so).
  '(d)': [[1, 3], [1, 3], [1, 3], [1, 3], [1, 3, 5]],
  '(e)': [[1, 2, 4], [1, 2, 4], [1, 2, 4], [1], [1, 3]],
};

/** The terms of server `id`'s entries, as the page draws its log. */
const terms = (page, id) =>
  page.$$eval(`[data-testid="log-row-${id}"] td[data-term]`, (tds) => tds.map((td) => Number(td.dataset.term)));

everyLessonReachesItsEnd(later(), () => app, {
  'figure8-paper': async (page, step) => {
    const label = step.title.slice(0, 3);
    // The state is drawn at the end of the last step of its letter; of (d)'s
    // two steps, the second ("(d) S5 overwrites ...").
    if (!FIGURE8[label] || step.title.startsWith('(d),')) return;
    for (let id = 1; id <= 5; id++) {
      assert.deepEqual(await terms(page, id), FIGURE8[label][id - 1], `${label}: S${id}'s log`);
    }
  },
}, {
  // These lessons wait on purpose while nothing moves (their clocks run at
  // a fifth of real time or slower); on a busy machine, with frames far
  // apart, such a step takes many times its nominal few seconds.
  stepTimeout: 60_000,
});
