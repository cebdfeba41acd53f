import { describe, expect, it } from 'vitest';
import { lookupQuerySchema, removeBackgroundQuerySchema, resultOptionsOf, resultOptionsQuery } from './query';
import { MODEL_MANIFEST, servableModelIds } from './model-manifest';
import { describeZodError } from './zod-issues';

describe('query schemas', () => {
  it('fills defaults and coerces max_side', () => {
    expect(removeBackgroundQuerySchema.parse({ max_side: '512' })).toEqual({
      output: 'matte',
      format: 'png',
      max_side: 512,
      refine: 'auto',
      subject: 'main',
      crop: 'false',
    });
  });

  it('validates the composition options and canonicalises bg_color', () => {
    expect(
      removeBackgroundQuerySchema.parse({
        bg_color: 'FFAA00',
        crop: 'true',
        crop_margin: '10px,5%,0px,2.5%',
        scale: '50',
        position: '10%,90%',
      }),
    ).toMatchObject({
      bg_color: 'ffaa00ff',
      crop: 'true',
      crop_margin: '10px,5%,0px,2.5%',
      scale: 50,
      position: '10%,90%',
    });
    expect(removeBackgroundQuerySchema.parse({ bg_color: '00000080' }).bg_color).toBe('00000080');
    expect(removeBackgroundQuerySchema.parse({ bg_image: 'AB'.repeat(32) }).bg_image).toBe('ab'.repeat(32));
    for (const bad of [
      { bg_color: 'red' },
      { bg_color: 'fff' },
      { bg_image: 'abc' },
      { crop: 'yes' },
      { crop_margin: '10px' },
      { crop_margin: '1,2,3,4' },
      { scale: '5' },
      { scale: '101' },
      { position: 'left' },
      { position: '10%' },
      { format: 'gif' },
    ]) {
      const parsed = removeBackgroundQuerySchema.safeParse(bad);
      expect(parsed.success, JSON.stringify(bad)).toBe(false);
      expect(describeZodError(parsed.error!)).toContain(Object.keys(bad)[0]);
    }
  });

  it('validates refine, subject and roi, and canonicalises roi', () => {
    expect(
      removeBackgroundQuerySchema.parse({ refine: 'auto', subject: 'main', roi: '0 0 50% 50%' }),
    ).toMatchObject({ refine: 'auto', subject: 'main', roi: '0px,0px,50%,50%' });
    const bad = removeBackgroundQuerySchema.safeParse({ refine: 'more', subject: 'one', roi: '1,2,3' });
    expect(describeZodError(bad.error!)).toMatch(/refine.*subject.*roi: expected four coordinates/);
  });

  it('resultOptionsOf drops what is not a result option; resultOptionsQuery names every option', () => {
    const lookup = lookupQuerySchema.parse({ sha256: 'a'.repeat(64), max_side: '100' });
    const options = resultOptionsOf(lookup);
    expect(options).not.toHaveProperty('sha256');
    expect(resultOptionsQuery({ ...options, model: 'm' }).toString()).toBe(
      'crop=false&format=png&max_side=100&model=m&output=matte&refine=auto&subject=main',
    );
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
