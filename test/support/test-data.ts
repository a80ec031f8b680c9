/**
 * Third-party data the tests check lanes against, vendored under test/data/ with its origin and
 * license (test/data/README.md), so that a clone of the repository tests itself on its own.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DATA = new URL('../data/', import.meta.url);

/** The absolute path of `test/data/<relative>`. */
export function testDataPath(relative: string): string {
  return fileURLToPath(new URL(relative, DATA));
}

export function readTestData(relative: string): string {
  return readFileSync(testDataPath(relative), 'utf8');
}
