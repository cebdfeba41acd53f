import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';

/** A command-line mistake: printed with the usage text, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util parseArgs (strict: unknown flags and missing values are errors), then a zod schema over
 * the values keyed by flag name, so that every message names the flag it is about.
 */
export function parseFlags<S extends z.ZodType>(
  argv: readonly string[],
  options: Options,
  schema: S,
): z.output<S> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const flag = issue.path[0];
      return typeof flag === 'string' ? `--${flag}: ${issue.message}` : issue.message;
    });
    throw new UsageError(lines.join('\n'));
  }
  return parsed.data;
}

/** Google Cloud project id: 6-30 characters, lowercase letters, digits, hyphens, starts with a letter. */
export const projectSchema = z
  .string({ error: 'required (the Google Cloud project id)' })
  .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'expected a project id like "my-project-123"');

/** A Cloud Run region such as europe-west4 or us-central1. */
export const regionSchema = z
  .string({ error: 'required (a Cloud Run region with L4 GPUs, e.g. europe-west4)' })
  .regex(/^[a-z]+-[a-z]+\d+$/, 'expected a region like "europe-west4" or "us-central1"');

/** Cloud Run service names: lowercase letters, digits, hyphens, start with a letter, at most 49. */
export const serviceNameSchema = z
  .string()
  .regex(
    /^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$/,
    'expected a lowercase name (letters, digits, hyphens; starts with a letter; at most 49 characters)',
  );

export const DEFAULT_SERVICE = 'bgremove-backend';

/** `--flag 12` as a bounded integer. */
export const intFlag = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `expected a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `expected at least ${min}`).max(max, `expected at most ${max}`));
