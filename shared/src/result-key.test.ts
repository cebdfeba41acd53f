import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RESULT_OPTION_NAMES, removeBackgroundQuerySchema, type ResultOptions } from './query';
import { resultKey, resultKeyInput, type ResultKeyOptions } from './result-key';

const base: ResultKeyOptions = {
  modelId: 'isnet-general-use',
  modelSha256: 'b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb',
  options: removeBackgroundQuerySchema.parse({}),
  sourceSha256: 'a'.repeat(64),
};

const withOptions = (options: Partial<ResultOptions>): ResultKeyOptions => ({
  ...base,
  options: { ...base.options, ...options },
});

describe('resultKey', () => {
  it('is the SHA-256 of the canonical string, computed independently with node:crypto', async () => {
    const expected = createHash('sha256').update(resultKeyInput(base)).digest('hex');
    expect(await resultKey(base)).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  it('labels every result option of the schema, in sorted order, unset ones as none', () => {
    const lines = resultKeyInput(base).split('\n');
    const optionLines = lines.slice(4, -1);
    expect(optionLines.map((l) => l.split('=')[0])).toEqual(RESULT_OPTION_NAMES.filter((n) => n !== 'model'));
    expect(optionLines).toContain('max_side=none');
    expect(optionLines).toContain('output=matte');
    expect(lines[0]).toBe('bgremove-result');
    expect(lines.at(-1)).toBe(`source_sha256=${'a'.repeat(64)}`);
  });

  it('changes when any field that changes the output changes', async () => {
    const variants: ResultKeyOptions[] = [
      { ...base, modelId: 'u2netp' },
      { ...base, modelSha256: 'c'.repeat(64) },
      { ...base, sourceSha256: 'b'.repeat(64) },
      { ...base, pipelineVersion: '999' },
      withOptions({ output: 'cutout' }),
      withOptions({ format: 'webp' }),
      withOptions({ max_side: 512 }),
      withOptions({ refine: base.options.refine === 'none' ? 'auto' : 'none' }),
      withOptions({ subject: base.options.subject === 'all' ? 'main' : 'all' }),
      withOptions({ roi: '0px,0px,10px,10px' }),
    ];
    const keys = new Set([await resultKey(base)]);
    for (const variant of variants) keys.add(await resultKey(variant));
    expect(keys.size).toBe(variants.length + 1);
  });

  it('is the same for equivalent spellings of an option, and ignores the model option', async () => {
    const a = removeBackgroundQuerySchema.parse({ roi: '10, 0, 50%, 100%', model: 'x' });
    const b = removeBackgroundQuerySchema.parse({ roi: '10px 0px 50.0% 100%' });
    expect(await resultKey({ ...base, options: a })).toBe(await resultKey({ ...base, options: b }));
  });
});
