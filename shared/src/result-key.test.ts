import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resultKey, resultKeyInput, type ResultKeyOptions } from './result-key';

const base: ResultKeyOptions = {
  modelId: 'isnet-general-use',
  modelSha256: 'b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb',
  output: 'matte',
  format: 'png',
  maxSide: undefined,
  sourceSha256: 'a'.repeat(64),
};

describe('resultKey', () => {
  it('is the SHA-256 of the canonical string, computed independently with node:crypto', async () => {
    const expected = createHash('sha256').update(resultKeyInput(base)).digest('hex');
    expect(await resultKey(base)).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes when any field that changes the output changes', async () => {
    const variants: Partial<ResultKeyOptions>[] = [
      { modelId: 'u2netp' },
      { modelSha256: 'c'.repeat(64) },
      { output: 'cutout' },
      { format: 'webp' },
      { maxSide: 512 },
      { sourceSha256: 'b'.repeat(64) },
      { pipelineVersion: '999' },
    ];
    const keys = new Set([await resultKey(base)]);
    for (const variant of variants) keys.add(await resultKey({ ...base, ...variant }));
    expect(keys.size).toBe(variants.length + 1);
  });
});
