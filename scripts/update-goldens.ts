// `npm run goldens`: re-renders every golden-flow case into fixtures/goldens/. The one explicit way
// to change a golden file; review the result with `git diff fixtures/goldens`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { goldenCases, goldenPath, renderCase } from '../testing/golden-cases.js';

let files = 0;
for (const c of goldenCases()) {
  for (const [host, bridge, lines] of renderCase(c)) {
    const path = goldenPath(c, host, bridge);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${lines.join('\n')}\n`);
    files++;
  }
}
console.log(`wrote ${files} golden files under fixtures/goldens/ — review them with git diff`);
