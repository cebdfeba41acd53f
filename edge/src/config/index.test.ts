import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './index';

const minimal = { BACKEND_URL: 'http://127.0.0.1:8080/' };

describe('parseConfig', () => {
  it('fills every default from an env with only BACKEND_URL', () => {
    const config = parseConfig(minimal);
    expect(config).toMatchObject({
      backendUrl: 'http://127.0.0.1:8080',
      sharedSecret: undefined,
      defaultModel: 'isnet-general-use',
      maxBodyBytes: 25 * 1024 * 1024,
      maxInputPixels: 50_000_000,
      backendTimeoutMs: 60_000,
      retryBudgetMs: 20_000,
    });
    expect([...config.models.keys()]).toEqual(['isnet-general-use']);
    expect(config.models.get('isnet-general-use')!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('image_url limits: MAX_BODY_BYTES unless set; dev hosts lowercased', () => {
    expect(parseConfig(minimal).imageUrl).toMatchObject({ timeoutMs: 15_000, maxBytes: 25 * 1024 * 1024 });
    expect([...parseConfig(minimal).imageUrl.devHosts]).toEqual([]);
    const set = parseConfig({
      ...minimal,
      IMAGE_URL_MAX_BYTES: '2048',
      IMAGE_URL_DEV_HOSTS: 'LocalHost:9000',
    });
    expect(set.imageUrl.maxBytes).toBe(2048);
    expect([...set.imageUrl.devHosts]).toEqual(['localhost:9000']);
  });

  it('treats empty strings as unset and ignores bindings', () => {
    const config = parseConfig({ ...minimal, MODELS: '', RESULTS: {}, MAX_BODY_BYTES: '' });
    expect(config.maxBodyBytes).toBe(25 * 1024 * 1024);
  });

  it.each([
    [{}, /BACKEND_URL/],
    [{ BACKEND_URL: 'ftp://x' }, /BACKEND_URL/],
    [{ ...minimal, MAX_BODY_BYTES: 'lots' }, /MAX_BODY_BYTES/],
    [{ ...minimal, BACKEND_SHARED_SECRET: 'short' }, /BACKEND_SHARED_SECRET: at least 16/],
    [{ ...minimal, MODELS: 'u2net' }, /MODELS: "u2net" has no pinned sha256/],
    [{ ...minimal, MODELS: 'nope' }, /MODELS: "nope" is not in the model manifest/],
    [{ ...minimal, DEFAULT_MODEL: 'u2netp' }, /DEFAULT_MODEL: "u2netp" is not one of MODELS/],
    [{ ...minimal, CORS_ORIGINS: 'shop.example.com' }, /CORS_ORIGINS/],
    [{ ...minimal, WARMUP_HOURS: '7 to 9' }, /WARMUP_HOURS/],
    [{ ...minimal, WARMUP_TIMEZONE: 'Mars/Olympus' }, /WARMUP_TIMEZONE/],
    [{ ...minimal, WARMUP_DAYS: 'weekdays' }, /WARMUP_DAYS/],
    [{ ...minimal, IMAGE_URL_DEV_HOSTS: 'localhost' }, /IMAGE_URL_DEV_HOSTS/],
    [{ ...minimal, IMAGE_URL_TIMEOUT_MS: '5' }, /IMAGE_URL_TIMEOUT_MS/],
  ])('refuses %j naming the var', (env, message) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(message);
  });
});
