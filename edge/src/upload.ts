import { ACCEPTED_TYPES_TEXT, AppError, checkImageHeader, type AcceptedImageType } from '@bgremove/shared';

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

const tooLarge = (limit: number) =>
  new AppError('payload_too_large', `the upload is larger than the limit of ${limit} bytes`);

/** Reads a body stream, refusing it as soon as it passes `limit` bytes. */
export async function readLimited(
  body: ReadableStream<Uint8Array>,
  limit: number,
  maxBodyBytes: number,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > limit) {
      await reader.cancel();
      throw tooLarge(maxBodyBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
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
 * Validation before work: the size limit is checked on Content-Length before reading and again
 * while reading; the type comes from magic bytes; width × height from the header, never decoding.
 */
export async function readUpload(request: Request, limits: UploadLimits): Promise<Upload> {
  const contentType = request.headers.get('content-type') ?? '';
  const isMultipart = contentType.toLowerCase().startsWith('multipart/form-data');
  const limit = limits.maxBodyBytes + (isMultipart ? MULTIPART_OVERHEAD : 0);
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limits.maxBodyBytes);
  if (!request.body)
    throw new AppError('invalid_request', `missing body: send the image (${ACCEPTED_TYPES_TEXT})`);
  const raw = await readLimited(request.body, limit, limits.maxBodyBytes);
  const bytes = isMultipart ? await imageFromMultipart(raw, contentType) : raw;
  if (bytes.byteLength > limits.maxBodyBytes) throw tooLarge(limits.maxBodyBytes);
  if (bytes.byteLength === 0) {
    throw new AppError('invalid_request', `missing body: send the image (${ACCEPTED_TYPES_TEXT})`);
  }
  const image = checkImageHeader(bytes, limits.maxInputPixels);
  const buffer =
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? (bytes.buffer as ArrayBuffer)
      : (bytes.slice().buffer as ArrayBuffer);
  return { bytes: buffer, ...image };
}
