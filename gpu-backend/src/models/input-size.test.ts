import { findModel } from '@bgremove/shared';
import { describe, expect, it } from 'vitest';
import { modelInputSize } from './input-size';

const isnet = findModel('isnet-general-use')!;
const dynamic = findModel('inspyrenet-dynamic')!;

describe('modelInputSize', () => {
  it('is fixed for stretch models', () => {
    expect(modelInputSize(isnet, { width: 4032, height: 3024 })).toEqual({ width: 1024, height: 1024 });
  });

  it('keeps the aspect ratio on multiples of 32 for keep-aspect models', () => {
    expect(modelInputSize(dynamic, { width: 4032, height: 3024 })).toEqual({ width: 1024, height: 768 });
    expect(modelInputSize(dynamic, { width: 100, height: 1000 })).toEqual({ width: 96, height: 1024 });
    expect(modelInputSize(dynamic, { width: 10, height: 2000 })).toEqual({ width: 32, height: 1024 });
  });
});
