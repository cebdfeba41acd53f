// @ts-check
/**
 * What the page tells a shopper, from the edge's problem+json codes and their extension members
 * (limit_bytes, limit_pixels, seen; docs/API.md, section 2): plain words, what to do next. The
 * English `detail` is for developers and is never parsed here.
 */

/**
 * @typedef {object} Problem
 * @property {string} [code]
 * @property {string} [detail]
 * @property {number} [limit_bytes]
 * @property {number} [limit_pixels]
 * @property {{ bytes?: number, width?: number, height?: number, pixels?: number, type?: string }} [seen]
 */

/** @param {number} bytes */
function megabytes(bytes) {
  return `${Math.floor(bytes / (1024 * 1024))} MB`;
}

/** @param {number} pixels */
function megapixels(pixels) {
  return Math.floor(pixels / 1e6);
}

/**
 * @param {Problem} problem
 * @param {number | undefined} retryAfterSeconds
 * @returns {{ text: string, retryAfterSeconds?: number }}
 */
export function shopperMessage(problem, retryAfterSeconds) {
  switch (problem.code) {
    case 'payload_too_large': {
      const max = problem.limit_bytes === undefined ? '' : ` (up to ${megabytes(problem.limit_bytes)})`;
      return { text: `This photo is too large to upload${max}. Please choose a smaller photo.` };
    }
    case 'unsupported_media_type':
      if (problem.seen?.type === 'heic') {
        return {
          text: 'iPhone HEIC photos can’t be used yet. Please share or export the photo as JPEG and try again.',
        };
      }
      return { text: 'This file isn’t a photo we can use. Please choose a JPEG, PNG, WebP or AVIF image.' };
    case 'invalid_image':
      return { text: 'This photo seems to be damaged or incomplete. Please try another copy of it.' };
    case 'image_too_large': {
      const { width, height } = problem.seen ?? {};
      const size = width !== undefined && height !== undefined ? ` (${width} × ${height})` : '';
      const limit = problem.limit_pixels;
      const hint =
        limit === undefined ? 'for example 4000 pixels wide' : `up to ${megapixels(limit)} megapixels`;
      return {
        text: `This photo has too many pixels for us${size}. Please use a smaller version of it (${hint}).`,
      };
    }
    case 'unknown_model':
      return { text: 'That model isn’t available right now. Please pick another one.' };
    case 'rate_limited': {
      const wait = retryAfterSeconds ?? 60;
      return {
        text: `You’ve sent many photos in a short time. Please try again in ${wait} s.`,
        retryAfterSeconds: wait,
      };
    }
    case 'backend_unavailable':
    case 'overloaded': {
      const wait = retryAfterSeconds ?? 5;
      return { text: `We’re warming up — try again in ${wait} s.`, retryAfterSeconds: wait };
    }
    case 'backend_timeout':
      return { text: 'This photo took too long. Please try again in a moment.' };
    case 'forbidden':
      return { text: 'This page isn’t allowed to use the service. Please contact the shop.' };
    case 'network':
      return { text: 'We can’t reach the service. Please check your connection and try again.' };
    default:
      return { text: 'Something went wrong on our side. Please try again.' };
  }
}

/**
 * The countdown form of a "try again in N s" message.
 * @param {string} text
 * @param {number} seconds
 */
export function withSeconds(text, seconds) {
  return text.replace(/in \d+ s\./, `in ${seconds} s.`);
}
