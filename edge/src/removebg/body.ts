import { AppError } from '@bgremove/shared';
import type { Context } from 'hono';
import { readLimited } from '../upload';
import { RemoveBgError } from './errors';
import type { FieldValue } from './params';

/** Room for the form's other fields, boundaries and part headers. */
const FORM_OVERHEAD = 256 * 1024;

/**
 * The body of POST /v1.0/removebg in any of remove.bg's encodings: multipart/form-data (files as
 * bytes), application/x-www-form-urlencoded or application/json (an object of strings, numbers
 * and booleans). At most `maxBodyBytes` of image (twice: a source and a background), base64
 * counted at its encoded size; the size is checked from Content-Length first, then while reading.
 */
export async function readRemoveBgBody(c: Context, maxBodyBytes: number): Promise<Map<string, FieldValue>> {
  const contentType = (c.req.header('content-type') ?? '').toLowerCase();
  const limit = Math.ceil((maxBodyBytes * 2 * 4) / 3) + FORM_OVERHEAD;
  const tooLarge = () =>
    new RemoveBgError(
      'file_too_large',
      `the request body is over the limit (${maxBodyBytes} bytes per image)`,
    );
  if (!c.req.raw.body) throw new RemoveBgError('missing_source', 'the request has no body');
  let raw: Uint8Array;
  try {
    raw = await readLimited(c, limit, maxBodyBytes);
  } catch (error) {
    if (error instanceof AppError && error.code === 'payload_too_large') throw tooLarge();
    throw error;
  }
  const fields = new Map<string, FieldValue>();
  const add = (name: string, value: FieldValue) => {
    if (fields.has(name)) throw new RemoveBgError('invalid_parameter', `${name} is given more than once`);
    fields.set(name, value);
  };
  if (contentType.startsWith('multipart/form-data')) {
    let form: FormData;
    try {
      form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    } catch (cause) {
      throw new RemoveBgError('invalid_request', 'the multipart/form-data body is malformed', { cause });
    }
    for (const [name, value] of form.entries()) {
      add(name, typeof value === 'string' ? value : { file: new Uint8Array(await value.arrayBuffer()) });
    }
  } else if (contentType.startsWith('application/x-www-form-urlencoded')) {
    for (const [name, value] of new URLSearchParams(new TextDecoder().decode(raw))) add(name, value);
  } else if (contentType.startsWith('application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(raw));
    } catch (cause) {
      throw new RemoveBgError('invalid_request', 'the body is not valid JSON', { cause });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new RemoveBgError('invalid_request', 'the JSON body must be an object');
    for (const [name, value] of Object.entries(parsed)) {
      if (value === null) continue;
      if (!['string', 'number', 'boolean'].includes(typeof value))
        throw new RemoveBgError('invalid_parameter', `${name} must be a string, number or boolean`);
      add(name, String(value));
    }
  } else {
    throw new RemoveBgError(
      'invalid_request',
      'send multipart/form-data, application/x-www-form-urlencoded or application/json',
    );
  }
  return fields;
}
