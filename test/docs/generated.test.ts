import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { GENERATED_DOCS } from '../../docs/generate.js';

describe('generated docs', () => {
  for (const doc of GENERATED_DOCS) {
    test(`${doc.path} matches the code (run \`npm run docs\` to update)`, async () => {
      // GIVEN the page generated from code
      const expected = await doc.generate();
      // WHEN read from the repository
      const actual = readFileSync(new URL(`../../${doc.path}`, import.meta.url), 'utf8');
      // THEN they agree
      expect(actual).toBe(expected);
    });
  }
});
