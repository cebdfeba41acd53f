import { describe, expect, it } from 'vitest';
import { describeZodError, lookupQuerySchema, removeBackgroundQuerySchema } from './query';
import { MODEL_MANIFEST, servableModelIds } from './model-manifest';

describe('query schemas', () => {
  it('fills defaults and coerces max_side', () => {
    expect(removeBackgroundQuerySchema.parse({ max_side: '512' })).toEqual({
      output: 'matte',
      format: 'png',
      max_side: 512,
    });
  });

  it('rejects unknown keys and bad values, naming the field', () => {
    const unknown = removeBackgroundQuerySchema.safeParse({ colour: 'red' });
    expect(unknown.success).toBe(false);
    expect(describeZodError(unknown.error!)).toContain('colour');
    const bad = removeBackgroundQuerySchema.safeParse({ max_side: '9000', output: 'mask' });
    expect(describeZodError(bad.error!)).toMatch(/max_side.*output|output.*max_side/);
  });

  it('lowercases and checks the lookup hash', () => {
    expect(lookupQuerySchema.parse({ sha256: 'A'.repeat(64) }).sha256).toBe('a'.repeat(64));
    expect(lookupQuerySchema.safeParse({ sha256: 'xyz' }).success).toBe(false);
  });
});

describe('model manifest', () => {
  it('has every family, a servable default, and pinned IS-Net weights', () => {
    const families = new Set(MODEL_MANIFEST.models.map((m) => m.family));
    expect([...families].sort()).toEqual(['birefnet', 'inspyrenet', 'isnet', 'u2net']);
    expect(servableModelIds()).toContain(MODEL_MANIFEST.default);
    for (const id of [
      'u2net',
      'u2netp',
      'u2net_human_seg',
      'silueta',
      'isnet-general-use',
      'birefnet-general',
    ]) {
      expect(MODEL_MANIFEST.models.map((m) => m.id)).toContain(id);
    }
  });
});
