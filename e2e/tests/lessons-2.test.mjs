// The second and third parts of the lessons taken to their end with only
// answers and Next (see lesson-run.mjs; lessons.test.mjs runs the first).
import { before, after } from 'node:test';
import { startApp } from '../lib/index.mjs';
import { part, everyLessonReachesItsEnd } from './lesson-run.mjs';

let app;
before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

everyLessonReachesItsEnd(part(1, 3), () => app);
