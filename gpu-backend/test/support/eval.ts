/**
 * Outside reference data (rembg's photos and expected outputs, the labelled evaluation sets) is
 * never in git: it is read from EVAL_DIR, by default `../shared/eval` beside the repository. Tests
 * that need it are skipped, with one line saying what is missing and how to get it, when it is
 * absent; with EVAL_REQUIRED=1 (as `.ci/run` sets) a missing set fails instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The evaluation kit's eval/ folder: EVAL_DIR (relative to the repository root) or ../shared/eval. */
export const EVAL_DIR = ((dir) => (isAbsolute(dir) ? dir : resolve(REPO_ROOT, dir)))(
  process.env.EVAL_DIR || '../shared/eval',
);

/** rembg's test photos (fixtures/) and its outputs for them (results/). */
export const REMBG_FIXTURES = join(EVAL_DIR, 'rembg-fixtures/');

const reported = new Set<string>();

/**
 * Whether `subdir` of EVAL_DIR is there. When it is not: throws under EVAL_REQUIRED=1, otherwise
 * writes one line (once per set) naming what is missing and how to get it and returns false, for
 * `describe.skipIf(!hasEvalData(...))`.
 */
export function hasEvalData(subdir: string, what: string): boolean {
  const dir = join(EVAL_DIR, subdir);
  if (existsSync(dir)) return true;
  const line = `${what} skipped: ${dir} not found; point EVAL_DIR at the evaluation kit's eval/ folder (default ../shared/eval beside the repository)`;
  if (process.env.EVAL_REQUIRED === '1') throw new Error(`EVAL_REQUIRED=1 and ${line}`);
  if (!reported.has(dir)) {
    reported.add(dir);
    console.warn(line);
  }
  return false;
}

/** One of rembg's test photos (needs EVAL_DIR: check hasEvalData('rembg-fixtures', ...) first). */
export const photo = (name: 'car-1' | 'anime-girl-1' | 'cloth-1' | 'plants-1'): Buffer =>
  readFileSync(`${REMBG_FIXTURES}fixtures/${name}.jpg`);

export const reference = (name: string, model = 'isnet-general-use'): string =>
  `${REMBG_FIXTURES}results/${name}.${model}.png`;
