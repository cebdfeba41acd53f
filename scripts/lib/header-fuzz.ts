/**
 * The in-process fuzz target: the edge's (and the backend's first) look at an upload, i.e.
 * sniffImageType, readImageSize and checkImageHeader from shared/. Each case must end in a result
 * or in one of the documented refusals, quickly; anything else is a finding.
 */
import { AppError, checkImageHeader, readImageSize, sniffImageType } from '@bgremove/shared';
import { fuzzCase, type Mutant, type Seed } from './fuzz';

/** The codes checkImageHeader may refuse with (shared/src/image-header.ts). */
export const DOCUMENTED_REFUSALS = new Set(['unsupported_media_type', 'invalid_image', 'image_too_large']);

export interface HeaderFinding {
  index: number;
  mutant: Mutant;
  problem: string;
}

export interface HeaderFuzzReport {
  cases: number;
  /** "ok" or the refusal's code → how many. */
  outcomes: Record<string, number>;
  findings: HeaderFinding[];
  slowestMs: number;
  totalMs: number;
}

/** Runs one case; returns its outcome ("ok" or a code) or throws what is wrong with it. */
export function headerCase(bytes: Uint8Array, maxPixels: number): string {
  const sniffed = sniffImageType(bytes);
  if (sniffed.accepted) {
    const size = readImageSize(bytes, sniffed.type);
    if (
      size.ok &&
      !(Number.isInteger(size.width) && Number.isInteger(size.height) && size.width > 0 && size.height > 0)
    ) {
      throw new Error(`readImageSize gave ${size.width}x${size.height}`);
    }
  }
  try {
    const image = checkImageHeader(bytes, maxPixels);
    if (image.width * image.height > maxPixels) throw new Error('over the pixel limit but accepted');
    return 'ok';
  } catch (error) {
    if (error instanceof AppError && DOCUMENTED_REFUSALS.has(error.code)) return error.code;
    throw error;
  }
}

/** Cases [from, from + count) of run `seed`; a case slower than `hangMs` counts as a hang. */
export function runHeaderFuzz(options: {
  seeds: readonly Seed[];
  seed: number;
  count: number;
  from?: number;
  maxPixels?: number;
  hangMs?: number;
}): HeaderFuzzReport {
  const { seeds, seed, count, from = 0, maxPixels = 50_000_000, hangMs = 1_000 } = options;
  const outcomes: Record<string, number> = {};
  const findings: HeaderFinding[] = [];
  let slowestMs = 0;
  const started = performance.now();
  for (let index = from; index < from + count; index++) {
    const mutant = fuzzCase(seeds, seed, index);
    const t0 = performance.now();
    let outcome: string;
    try {
      outcome = headerCase(mutant.bytes, maxPixels);
    } catch (error) {
      outcome = 'finding';
      findings.push({
        index,
        mutant,
        problem: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
    }
    const ms = performance.now() - t0;
    slowestMs = Math.max(slowestMs, ms);
    if (ms > hangMs) findings.push({ index, mutant, problem: `took ${ms.toFixed(0)} ms` });
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  return { cases: count, outcomes, findings, slowestMs, totalMs: performance.now() - started };
}
