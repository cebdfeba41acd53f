import {
  ACCEPTED_TYPES_TEXT,
  AppError,
  checkImageHeader,
  declaredLength,
  payloadTooLarge,
  type AcceptedImageType,
} from '@bgremove/shared';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';

export interface Upload {
  bytes: ArrayBuffer;
  type: AcceptedImageType;
  mime: string;
  width: number;
  height: number;
}

export interface UploadLimits {
  maxBodyBytes: number;
  maxInputPixels: number;
}

/** Room for the multipart boundaries and part headers around the file itself. */
const MULTIPART_OVERHEAD = 64 * 1024;

const tooLarge = (limit: number, seenBytes?: number) => payloadTooLarge('the upload', limit, seenBytes);

/**
 * The body's bytes, refused with 413 payload_too_large past `limit` bytes (hono's body-limit: a
 * declared Content-Length over it before anything is read, else as soon as the stream passes it).
 */
export async function readLimited(c: Context, limit: number, maxBodyBytes: number): Promise<Uint8Array> {
  let bytes = new Uint8Array();
  const limited = bodyLimit({
    maxSize: limit,
    onError: () => {
      // Refused on a declared Content-Length before reading: that size is known. Cut off while
      // streaming, only "more than the limit" is.
      const declared = declaredLength(c.req.header('content-length'));
      throw tooLarge(maxBodyBytes, declared !== undefined && declared > limit ? declared : undefined);
    },
  });
  // eslint-disable-next-line @typescript-eslint/no-unsafe-argument -- hono's default Context has an `any` path type; the middleware reads only the body
  await limited(c, async () => {
    bytes = new Uint8Array(await c.req.arrayBuffer());
  });
  return bytes;
}

async function imageFromMultipart(raw: Uint8Array, contentType: string): Promise<Uint8Array> {
  let form: FormData;
  try {
    form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  } catch (error) {
    throw new AppError('invalid_request', 'the multipart/form-data body is malformed', { cause: error });
  }
  const file = form.get('image');
  if (file === null) throw new AppError('invalid_request', 'multipart field "image" is missing');
  if (typeof file === 'string')
    throw new AppError('invalid_request', 'multipart field "image" must be a file');
  return new Uint8Array(await file.arrayBuffer());
}

/**
 * Validation before work: the size limit is checked on Content-Length before reading, else while
 * reading (readLimited), and on the image itself; the type comes from magic bytes; width × height from the header, never decoding.
 */
export async function readUpload(c: Context, limits: UploadLimits): Promise<Upload> {
  const contentType = c.req.header('content-type') ?? '';
  const isMultipart = contentType.toLowerCase().startsWith('multipart/form-data');
  const limit = limits.maxBodyBytes + (isMultipart ? MULTIPART_OVERHEAD : 0);
  if (!c.req.raw.body)
    throw new AppError('invalid_request', `missing body: send the image (${ACCEPTED_TYPES_TEXT})`);
  const raw = await readLimited(c, limit, limits.maxBodyBytes);
  const bytes = isMultipart ? await imageFromMultipart(raw, contentType) : raw;
  if (bytes.byteLength > limits.maxBodyBytes) throw tooLarge(limits.maxBodyBytes, bytes.byteLength);
  if (bytes.byteLength === 0) {
    throw new AppError('invalid_request', `missing body: send the image (${ACCEPTED_TYPES_TEXT})`);
  }
  const image = checkImageHeader(bytes, limits.maxInputPixels);
  const buffer =
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? (bytes.buffer as ArrayBuffer)
      : bytes.slice().buffer;
  return { bytes: buffer, ...image };
}
