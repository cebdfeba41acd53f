import type { z } from 'zod';

/**
 * One line per zod issue, naming the field: `max_side: Too big: expected number to be <=8192`.
 * An issue at the root is named `root`; unknown keys are listed as such.
 */
export function zodIssueLines(error: z.ZodError, root = '(root)'): string[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return `unknown parameter(s): ${issue.keys.join(', ')}`;
    const field = issue.path.length > 0 ? issue.path.join('.') : root;
    return `${field}: ${issue.message}`;
  });
}

/** One line naming every offending field, for problem+json details. */
export function describeZodError(error: z.ZodError): string {
  return zodIssueLines(error, '(query)').join('; ');
}
