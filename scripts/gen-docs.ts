// Writes every generated documentation page (see docs/generate.ts).
import { writeFileSync } from 'node:fs';
import { GENERATED_DOCS } from '../docs/generate.js';

for (const doc of GENERATED_DOCS) {
  writeFileSync(new URL(`../${doc.path}`, import.meta.url), await doc.generate());
  process.stdout.write(`wrote ${doc.path}\n`);
}
