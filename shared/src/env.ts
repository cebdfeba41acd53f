import { z } from 'zod';
import { zodIssueLines } from './zod-issues';

/**
 * Helpers for the services' environment schemas (edge/src/config, gpu-backend/src/config.ts):
 * the same integer and list parsing, the same "empty means unset", the same limits by default.
 */

/** The upload limits both services apply unless configured otherwise. */
export const DEFAULT_LIMITS = {
  /** MAX_BODY_BYTES: 25 MiB. */
  maxBodyBytes: 25 * 1024 * 1024,
  /** MAX_INPUT_PIXELS: 50 megapixels. */
  maxInputPixels: 50_000_000,
} as const;

/** An integer variable within [min, max]. */
export const envInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** A comma list: trimmed, empty items dropped (`"a, b,,c"` → `["a", "b", "c"]`). */
export const envList = z.string().transform((value) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/** The string variables that are set: empty strings count as unset, bindings are not vars. */
export function presentVars(env: object): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== '',
    ),
  );
}

/** Parses the set variables of `env` with `schema`; on failure, one `NAME: problem` line per issue. */
export function parseVars<S extends z.ZodType>(
  schema: S,
  env: object,
): { ok: true; vars: z.output<S> } | { ok: false; issues: string[] } {
  const parsed = schema.safeParse(presentVars(env));
  return parsed.success
    ? { ok: true, vars: parsed.data }
    : { ok: false, issues: zodIssueLines(parsed.error) };
}
