import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_LIMITS, envInt, envList, parseVars, presentVars } from './env';

const schema = z.object({
  PORT: envInt(0, 65535).default(8080),
  MODELS: envList.pipe(z.array(z.string()).min(1)).default(['a']),
  MAX_BODY_BYTES: envInt(1024, 1 << 30).default(DEFAULT_LIMITS.maxBodyBytes),
});

describe('env helpers', () => {
  it('treats empty strings as unset and ignores what is not a string (bindings)', () => {
    expect(presentVars({ A: 'x', B: '', C: {}, D: undefined })).toEqual({ A: 'x' });
    expect(parseVars(schema, { PORT: '', MODELS: ' b, ,c ', RESULTS: {} })).toEqual({
      ok: true,
      vars: { PORT: 8080, MODELS: ['b', 'c'], MAX_BODY_BYTES: 25 * 1024 * 1024 },
    });
  });

  it('names every bad variable', () => {
    const parsed = parseVars(schema, { PORT: '70000', MODELS: ',', MAX_BODY_BYTES: '1.5' });
    expect(parsed.ok).toBe(false);
    const issues = parsed.ok ? [] : parsed.issues;
    expect(issues.map((line) => line.split(':')[0])).toEqual(['PORT', 'MODELS', 'MAX_BODY_BYTES']);
  });
});
