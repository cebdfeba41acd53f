/**
 * The short, seeded run of the header fuzzer that `npm test` includes (`npm run fuzz` runs the
 * long one, ≥ 100,000 cases): mutated JPEG/PNG/WebP/AVIF files through the edge's header check
 * end in a result or a documented refusal, never in another throw, and none is slow.
 */
import { describe, expect, it } from 'vitest';
import { fuzzCase } from '../../scripts/lib/fuzz';
import { loadSeeds } from '../../scripts/lib/fuzz-seeds';
import { runHeaderFuzz } from '../../scripts/lib/header-fuzz';

const seeds = loadSeeds();

describe('header fuzz (seeded)', () => {
  it('5,000 mutated files: only results and documented refusals', () => {
    const report = runHeaderFuzz({ seeds, seed: 13, count: 5_000 });
    expect(report.findings).toEqual([]);
    // The mutations reach every branch: accepted, and each of the three refusals.
    for (const outcome of ['ok', 'unsupported_media_type', 'invalid_image', 'image_too_large']) {
      expect(report.outcomes[outcome], outcome).toBeGreaterThan(50);
    }
  });

  it('is deterministic: a case is the same bytes every time', () => {
    const a = fuzzCase(seeds, 7, 1234);
    const b = fuzzCase(seeds, 7, 1234);
    expect(b.mutations).toEqual(a.mutations);
    expect(Buffer.from(b.bytes).equals(Buffer.from(a.bytes))).toBe(true);
    expect(Buffer.from(fuzzCase(seeds, 7, 1235).bytes).equals(Buffer.from(a.bytes))).toBe(false);
  });
});
