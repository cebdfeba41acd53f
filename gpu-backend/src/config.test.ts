import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config';

describe('parseConfig', () => {
  it('has documented defaults', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      PORT: 8080,
      MODELS: ['isnet-general-use'],
      ORT_PROVIDERS: ['cpu'],
      MAX_QUEUE: 16,
      MAX_CONCURRENCY: 2,
      MAX_INPUT_PIXELS: 50_000_000,
    });
    expect(config.ORT_INTRA_OP_THREADS).toBeGreaterThan(0);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('parses lists and numbers', () => {
    const config = parseConfig({
      MODELS: 'isnet-general-use, isnet-general-use-quint8',
      ORT_PROVIDERS: 'webgpu,cpu',
      PORT: '9000',
    });
    expect(config.MODELS).toEqual(['isnet-general-use', 'isnet-general-use-quint8']);
    expect(config.ORT_PROVIDERS).toEqual(['webgpu', 'cpu']);
    expect(config.PORT).toBe(9000);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT/],
    [{ ORT_PROVIDERS: 'tpu' }, /ORT_PROVIDERS/],
    [{ MODELS: 'nope' }, /unknown model "nope".*isnet-general-use/],
    [{ MODELS: 'u2net' }, /no pinned sha256/],
    [{ BACKEND_SHARED_SECRET: 'short' }, /BACKEND_SHARED_SECRET: at least 16/],
    [{ MAX_QUEUE: '-1' }, /MAX_QUEUE/],
  ])('refuses %o naming the variable', (env, message) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(message);
  });
});
