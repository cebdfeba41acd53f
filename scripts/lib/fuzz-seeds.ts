/** The seed images from disk (Node only): edge/test/fixtures, committed with the repository. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SEED_FILES, type Seed } from './fuzz';

const FIXTURES = fileURLToPath(new URL('../../edge/test/fixtures/', import.meta.url));

export function loadSeeds(): Seed[] {
  return SEED_FILES.map(({ name, type }) => ({
    name,
    type,
    bytes: new Uint8Array(readFileSync(`${FIXTURES}${name}`)),
  }));
}
