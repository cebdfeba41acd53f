/**
 * Hostile images for the fuzzer (`npm run fuzz`, scripts/fuzz.ts) and for the short seeded runs in
 * `npm test`: mutations of real seed files of every accepted type. Generic byte edits (bit flips,
 * truncation, inserted, zeroed and duplicated runs, "interesting" values, files spliced together)
 * and structure-aware ones that keep the file plausible enough to reach deeper code: header
 * dimensions, chunk and box lengths, JPEG markers and segment lengths, EXIF orientation values,
 * ICC profiles, AVIF boxes. PNG chunks edited on purpose get a correct CRC half of the time.
 *
 * Everything is deterministic: case `index` of run `seed` is the same bytes on every machine, so a
 * failure is reproduced with `npm run fuzz -- --seed <seed> --only <index>`. No Node imports: the
 * module works in workerd too.
 */
import type { AcceptedImageType } from '@bgremove/shared';

export interface Rng {
  /** [0, 1) */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** mulberry32: small, fast, good enough to pick mutations. */
export function rng(seed: number): Rng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
  };
}

/** The generator of case `index` in run `seed` (independent of every other case). */
export function caseRng(seed: number, index: number): Rng {
  return rng((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0);
}

export interface Seed {
  name: string;
  type: AcceptedImageType;
  bytes: Uint8Array;
}

export interface Mutant {
  bytes: Uint8Array;
  /** What was done, e.g. ["png:chunk-length IDAT=4294967295", "truncate 812"]. */
  mutations: string[];
  seed: string;
}

// ---- byte helpers -------------------------------------------------------------------------------

const u16be = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u32be = (b: Uint8Array, i: number) =>
  ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
const ascii = (b: Uint8Array, start: number, end: number) => String.fromCharCode(...b.subarray(start, end));
const putU16be = (b: Uint8Array, i: number, v: number) => {
  if (i + 2 > b.length) return;
  b[i] = (v >>> 8) & 0xff;
  b[i + 1] = v & 0xff;
};
const putU16le = (b: Uint8Array, i: number, v: number) => {
  if (i + 2 > b.length) return;
  b[i] = v & 0xff;
  b[i + 1] = (v >>> 8) & 0xff;
};
const putU24le = (b: Uint8Array, i: number, v: number) => {
  if (i + 3 > b.length) return;
  b[i] = v & 0xff;
  b[i + 1] = (v >>> 8) & 0xff;
  b[i + 2] = (v >>> 16) & 0xff;
};
const putU32be = (b: Uint8Array, i: number, v: number) => {
  if (i + 4 > b.length) return;
  b[i] = (v >>> 24) & 0xff;
  b[i + 1] = (v >>> 16) & 0xff;
  b[i + 2] = (v >>> 8) & 0xff;
  b[i + 3] = v & 0xff;
};
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
};
const text = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const randomBytes = (r: Rng, n: number) => Uint8Array.from({ length: n }, () => r.int(256));

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Values that break arithmetic: zero, one, powers of two and their neighbours, the maxima. */
function interesting(r: Rng, bits: 8 | 16 | 24 | 32): number {
  const max = bits === 32 ? 0xffffffff : 2 ** bits - 1;
  const values = [0, 1, 2, 7, 8, 15, 16, 127, 128, 255, 256, 0x3fff, 0x4000, 0x7fff, 0x8000, 0xffff, 40_000];
  if (bits >= 24) values.push(0x10000, 0xffffff, 0x1000000);
  if (bits === 32) values.push(0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff);
  const value = r.chance(0.8) ? r.pick(values) : r.int(max + 1);
  return Math.min(value, max);
}

// ---- structure: where things are ------------------------------------------------------------------

interface Segment {
  /** Offset of the 0xFF of the marker. */
  at: number;
  marker: number;
  /** Bytes of the whole segment, marker included (2 for standalone markers). */
  size: number;
}

/** JPEG marker segments up to the start of scan. */
function jpegSegments(b: Uint8Array): Segment[] {
  const found: Segment[] = [];
  let i = 2;
  while (i + 4 <= b.length && found.length < 64) {
    if (b[i] !== 0xff) break;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i += 1;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      found.push({ at: i, marker, size: 2 });
      i += 2;
      continue;
    }
    const size = 2 + u16be(b, i + 2);
    found.push({ at: i, marker, size });
    if (marker === 0xda || marker === 0xd9) break;
    i += size;
  }
  return found;
}

interface Chunk {
  at: number;
  type: string;
  length: number;
}

/** PNG chunks: length(4) type(4) data crc(4). */
function pngChunks(b: Uint8Array): Chunk[] {
  const found: Chunk[] = [];
  let i = 8;
  while (i + 12 <= b.length && found.length < 256) {
    const length = u32be(b, i);
    found.push({ at: i, type: ascii(b, i + 4, i + 8), length });
    if (length > b.length) break;
    i += 12 + length;
  }
  return found;
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const body = concat(text(type), data);
  const out = new Uint8Array(12 + data.length);
  putU32be(out, 0, data.length);
  out.set(body, 4);
  putU32be(out, 8 + data.length, crc32(body));
  return out;
}

/** Recomputes the CRC of the PNG chunk at `at` (when it fits in the file). */
function fixPngCrc(b: Uint8Array, at: number): void {
  const length = u32be(b, at);
  if (at + 12 + length > b.length) return;
  putU32be(b, at + 8 + length, crc32(b.subarray(at + 4, at + 8 + length)));
}

interface Box {
  at: number;
  type: string;
  size: number;
  header: number;
}

const CONTAINERS = new Set(['meta', 'iprp', 'ipco', 'dinf', 'iinf', 'iref', 'moov', 'trak']);

/** ISO-BMFF boxes, descending into the containers an AVIF uses. */
function bmffBoxes(b: Uint8Array, start = 0, end = b.length, depth = 0, found: Box[] = []): Box[] {
  let i = start;
  while (i + 8 <= end && found.length < 256 && depth < 6) {
    let size = u32be(b, i);
    const type = ascii(b, i + 4, i + 8);
    let header = 8;
    if (size === 1 && i + 16 <= end) {
      size = u32be(b, i + 8) * 2 ** 32 + u32be(b, i + 12);
      header = 16;
    } else if (size === 0) size = end - i;
    if (size < header) break;
    found.push({ at: i, type, size, header });
    if (CONTAINERS.has(type)) {
      const skip = type === 'meta' || type === 'iinf' || type === 'iref' ? 4 : 0; // full boxes
      bmffBoxes(b, i + header + skip, Math.min(i + size, end), depth + 1, found);
    }
    i += size;
  }
  return found;
}

// ---- mutations ------------------------------------------------------------------------------------

type Mutation = (
  b: Uint8Array,
  r: Rng,
  seed: Seed,
  seeds: readonly Seed[],
) => [Uint8Array, string] | undefined;

const bitFlips: Mutation = (b, r) => {
  if (b.length === 0) return undefined;
  const out = b.slice();
  const n = 1 + r.int(r.chance(0.7) ? 4 : 64);
  for (let k = 0; k < n; k++) out[r.int(out.length)]! ^= 1 << r.int(8);
  return [out, `bit-flips ${n}`];
};

const truncate: Mutation = (b, r) => {
  const length = r.chance(0.3) ? r.int(Math.min(64, b.length)) : r.int(b.length);
  return [b.slice(0, length), `truncate ${length}`];
};

const insertRun: Mutation = (b, r) => {
  const at = r.int(b.length + 1);
  const n = r.chance(0.9) ? 1 + r.int(256) : 1 + r.int(64 * 1024);
  const run = r.chance(0.5) ? randomBytes(r, n) : new Uint8Array(n).fill(r.pick([0, 0xff, r.int(256)]));
  return [concat(b.subarray(0, at), run, b.subarray(at)), `insert ${n}@${at}`];
};

const zeroRun: Mutation = (b, r) => {
  const out = b.slice();
  const at = r.int(b.length);
  const n = 1 + r.int(Math.min(512, b.length - at));
  out.fill(r.chance(0.8) ? 0 : 0xff, at, at + n);
  return [out, `zero ${n}@${at}`];
};

const duplicateRun: Mutation = (b, r) => {
  const at = r.int(b.length);
  const n = 1 + r.int(Math.min(1024, b.length - at));
  const times = 1 + r.int(r.chance(0.9) ? 3 : 200);
  const run = b.subarray(at, at + n);
  return [
    concat(b.subarray(0, at + n), ...Array.from({ length: times }, () => run), b.subarray(at + n)),
    `dup ${n}x${times}@${at}`,
  ];
};

const interestingValue: Mutation = (b, r) => {
  if (b.length < 4) return undefined;
  const out = b.slice();
  const at = r.int(b.length - 3);
  if (r.chance(0.5)) putU32be(out, at, interesting(r, 32));
  else putU16be(out, at, interesting(r, 16));
  return [out, `value@${at}`];
};

/** The start of this file with the rest of another (of any type), or the other way round. */
const splice: Mutation = (b, r, seed, seeds) => {
  const other = r.pick(seeds).bytes;
  const cut = r.int(b.length + 1);
  const from = r.int(other.length + 1);
  return r.chance(0.7)
    ? [concat(b.subarray(0, cut), other.subarray(from)), `splice ${cut}+other@${from}`]
    : [concat(other.subarray(0, from), b.subarray(cut)), `splice other:${from}+${cut}`];
};

const dimensions: Mutation = (b, r, seed) => {
  const out = b.slice();
  const w = r.chance(0.5);
  switch (seed.type) {
    case 'png': {
      putU32be(out, w ? 16 : 20, interesting(r, 32));
      if (r.chance(0.5)) fixPngCrc(out, 8);
      break;
    }
    case 'jpeg': {
      const sof = jpegSegments(out).find((s) => s.marker >= 0xc0 && s.marker <= 0xcf && s.marker !== 0xc4);
      if (!sof) return undefined;
      putU16be(out, sof.at + (w ? 7 : 5), interesting(r, 16));
      break;
    }
    case 'webp': {
      const chunk = ascii(out, 12, 16);
      if (chunk === 'VP8 ') putU16le(out, w ? 26 : 28, interesting(r, 16));
      else if (chunk === 'VP8X') putU24le(out, w ? 24 : 27, interesting(r, 24));
      else if (chunk === 'VP8L') putU32be(out, 21, interesting(r, 32));
      else return undefined;
      break;
    }
    case 'avif': {
      const ispe = bmffBoxes(out).filter((box) => box.type === 'ispe');
      if (ispe.length === 0) return undefined;
      const box = r.pick(ispe);
      putU32be(out, box.at + box.header + (w ? 4 : 8), interesting(r, 32));
      break;
    }
  }
  return [out, `${seed.type}:dimension ${w ? 'width' : 'height'}`];
};

const chunkLength: Mutation = (b, r, seed) => {
  const out = b.slice();
  if (seed.type === 'png') {
    const chunks = pngChunks(out);
    if (chunks.length === 0) return undefined;
    const chunk = r.pick(chunks);
    const value = r.chance(0.5) ? interesting(r, 32) : Math.max(0, chunk.length + r.int(17) - 8);
    putU32be(out, chunk.at, value);
    return [out, `png:chunk-length ${chunk.type}=${value}`];
  }
  if (seed.type === 'webp') {
    const at = r.chance(0.5) ? 4 : 16; // the RIFF size or the first chunk's
    out[at] = interesting(r, 8);
    out[at + 1] = r.int(256);
    out[at + 2] = r.chance(0.5) ? 0 : r.int(256);
    out[at + 3] = r.chance(0.7) ? 0 : r.int(256);
    return [out, `webp:riff-length @${at}`];
  }
  if (seed.type === 'avif') return avifBox(b, r, seed, []);
  return jpegMarker(b, r, seed, []);
};

const jpegMarker: Mutation = (b, r, seed) => {
  if (seed.type !== 'jpeg') return undefined;
  const segments = jpegSegments(b).filter((s) => s.size > 2);
  if (segments.length === 0) return undefined;
  const s = r.pick(segments);
  const name = `0x${s.marker.toString(16)}`;
  switch (r.int(5)) {
    case 0: {
      const out = b.slice();
      const value = r.chance(0.5) ? interesting(r, 16) : Math.max(0, s.size - 2 + r.int(9) - 4);
      putU16be(out, s.at + 2, value);
      return [out, `jpeg:segment-length ${name}=${value}`];
    }
    case 1:
      return [concat(b.subarray(0, s.at), b.subarray(s.at + s.size)), `jpeg:drop-segment ${name}`];
    case 2: {
      const segment = b.subarray(s.at, s.at + s.size);
      return [
        concat(b.subarray(0, s.at + s.size), segment, b.subarray(s.at + s.size)),
        `jpeg:dup-segment ${name}`,
      ];
    }
    case 3: {
      const out = b.slice();
      out[s.at + 1] = r.chance(0.5)
        ? r.pick([0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xda, 0xdb, 0xdd, 0xd9, 0xe1, 0xfe])
        : r.int(256);
      return [out, `jpeg:marker ${name}->0x${out[s.at + 1]!.toString(16)}`];
    }
    default: {
      const standalone = r.pick([
        [0xff, 0xd8],
        [0xff, 0xd9],
        [0xff, 0xd0 + r.int(8)],
        [0xff, 0xff, 0xff],
        [0xff, 0x01],
        [0xff, 0x00],
      ]);
      return [
        concat(b.subarray(0, s.at), Uint8Array.from(standalone), b.subarray(s.at)),
        `jpeg:insert-marker before ${name}`,
      ];
    }
  }
};

/** A minimal big- or little-endian TIFF/EXIF block holding one Orientation (0x0112) entry. */
function exifBlock(r: Rng, orientation: number): Uint8Array {
  const little = r.chance(0.5);
  const b = new Uint8Array(26);
  const u16 = (i: number, v: number) => (little ? putU16le(b, i, v) : putU16be(b, i, v));
  b.set(little ? [0x49, 0x49, 0x2a, 0x00] : [0x4d, 0x4d, 0x00, 0x2a], 0);
  b[little ? 4 : 7] = 8; // IFD0 at offset 8
  u16(8, 1); // one entry
  u16(10, 0x0112);
  u16(12, r.chance(0.9) ? 3 : interesting(r, 16)); // SHORT, or a broken type
  b[little ? 14 : 17] = r.chance(0.9) ? 1 : interesting(r, 8); // count
  u16(18, orientation);
  return b;
}

const orientations = (r: Rng) => (r.chance(0.6) ? r.int(10) : interesting(r, 16));

const exifOrientation: Mutation = (b, r, seed) => {
  const orientation = orientations(r);
  if (seed.type === 'jpeg') {
    // An existing Orientation tag (either byte order), else a new APP1 Exif segment after SOI.
    for (let i = 2; i + 10 < b.length; i++) {
      const be = b[i] === 0x01 && b[i + 1] === 0x12 && b[i + 2] === 0x00 && b[i + 3] === 0x03;
      const le = b[i] === 0x12 && b[i + 1] === 0x01 && b[i + 2] === 0x03 && b[i + 3] === 0x00;
      if (be || le) {
        const out = b.slice();
        (be ? putU16be : putU16le)(out, i + 8, orientation);
        return [out, `jpeg:exif-orientation ${orientation}`];
      }
    }
    const payload = concat(text('Exif\0\0'), exifBlock(r, orientation));
    const header = new Uint8Array(4);
    header.set([0xff, 0xe1]);
    putU16be(header, 2, payload.length + 2);
    return [
      concat(b.subarray(0, 2), header, payload, b.subarray(2)),
      `jpeg:new-exif orientation=${orientation}`,
    ];
  }
  if (seed.type === 'png') {
    const chunk = pngChunk('eXIf', exifBlock(r, orientation));
    return [concat(b.subarray(0, 33), chunk, b.subarray(33)), `png:exif orientation=${orientation}`];
  }
  return undefined;
};

/** An ICC header with random, often absurd fields (declared size, tag count). */
function iccProfile(r: Rng): Uint8Array {
  const length = r.chance(0.8) ? 128 + r.int(512) : r.int(128);
  const icc = randomBytes(r, length);
  putU32be(icc, 0, r.chance(0.5) ? length : interesting(r, 32));
  if (length >= 40) icc.set(text('acsp'), 36);
  putU32be(icc, 128, r.chance(0.5) ? r.int(4) : interesting(r, 32)); // tag count
  return icc;
}

const iccMutation: Mutation = (b, r, seed) => {
  if (seed.type === 'jpeg') {
    const count = 1 + r.int(3);
    const segments: Uint8Array[] = [];
    for (let k = 0; k < count; k++) {
      const payload = concat(
        text('ICC_PROFILE\0'),
        Uint8Array.from([r.chance(0.8) ? k + 1 : r.int(256), r.chance(0.8) ? count : r.int(256)]),
        iccProfile(r),
      );
      const header = new Uint8Array(4);
      header.set([0xff, 0xe2]);
      putU16be(header, 2, Math.min(0xffff, payload.length + 2));
      segments.push(header, payload);
    }
    return [concat(b.subarray(0, 2), ...segments, b.subarray(2)), `jpeg:icc x${count}`];
  }
  if (seed.type === 'png') {
    // iCCP: name, NUL, compression method, then "zlib" data that is not.
    const data = concat(
      text('icc\0'),
      Uint8Array.from([r.chance(0.9) ? 0 : r.int(256), 0x78, 0x9c]),
      iccProfile(r),
    );
    return [concat(b.subarray(0, 33), pngChunk('iCCP', data), b.subarray(33)), 'png:iccp'];
  }
  if (seed.type === 'webp' && ascii(b, 12, 16) === 'VP8X') {
    const out = b.slice();
    out[20]! |= 0x20; // the ICC flag, with an ICCP chunk that may or may not follow
    const icc = iccProfile(r);
    const chunk = concat(
      text('ICCP'),
      Uint8Array.from([icc.length & 0xff, (icc.length >> 8) & 0xff, 0, 0]),
      icc,
    );
    return [concat(out.subarray(0, 30), chunk, out.subarray(30)), 'webp:iccp'];
  }
  return undefined;
};

const avifBox: Mutation = (b, r, seed) => {
  if (seed.type !== 'avif') return undefined;
  const boxes = bmffBoxes(b);
  if (boxes.length === 0) return undefined;
  const box = r.pick(boxes);
  switch (r.int(4)) {
    case 0: {
      const out = b.slice();
      const value = r.chance(0.5) ? interesting(r, 32) : Math.max(0, box.size + r.int(17) - 8);
      putU32be(out, box.at, value);
      return [out, `avif:box-size ${box.type}=${value}`];
    }
    case 1: {
      const out = b.slice();
      out.set(
        text(
          r.pick([
            'ispe',
            'ipma',
            'iloc',
            'pitm',
            'meta',
            'ftyp',
            'mdat',
            'iprp',
            'ipco',
            'av1C',
            'pixi',
            'colr',
            'irot',
            'imir',
            'grid',
          ]),
        ),
        box.at + 4,
      );
      return [out, `avif:box-type ${box.type}->${ascii(out, box.at + 4, box.at + 8)}`];
    }
    case 2: {
      const end = Math.min(b.length, box.at + box.size);
      return [
        concat(b.subarray(0, end), b.subarray(box.at, end), b.subarray(end)),
        `avif:dup-box ${box.type}`,
      ];
    }
    default: {
      const end = Math.min(b.length, box.at + box.size);
      return [concat(b.subarray(0, box.at), b.subarray(end)), `avif:drop-box ${box.type}`];
    }
  }
};

const GENERIC: Mutation[] = [bitFlips, truncate, insertRun, zeroRun, duplicateRun, interestingValue, splice];
const STRUCTURED: Mutation[] = [dimensions, chunkLength, jpegMarker, exifOrientation, iccMutation, avifBox];

/** One to three mutations of a seed; about half of them structure-aware. */
export function mutate(seeds: readonly Seed[], r: Rng): Mutant {
  const seed = r.pick(seeds);
  let bytes = seed.bytes;
  const mutations: string[] = [];
  const rounds = 1 + r.int(3);
  for (let k = 0; k < rounds; k++) {
    for (let attempt = 0; attempt < 4; attempt++) {
      const mutation = r.pick(r.chance(0.5) ? STRUCTURED : GENERIC);
      const result = mutation(bytes, r, seed, seeds);
      if (result) {
        [bytes, mutations[mutations.length]] = result;
        break;
      }
    }
  }
  return { bytes, mutations, seed: seed.name };
}

/** Case `index` of run `seed`. */
export const fuzzCase = (seeds: readonly Seed[], seed: number, index: number): Mutant =>
  mutate(seeds, caseRng(seed, index));

/** The committed seed images: one real photo as every accepted type and variant (edge/test/fixtures). */
export const SEED_FILES: readonly { name: string; type: AcceptedImageType }[] = [
  { name: 'photo-96x64.jpg', type: 'jpeg' },
  { name: 'photo-96x64-exif-rotated.jpg', type: 'jpeg' },
  { name: 'photo-96x64.png', type: 'png' },
  { name: 'photo-96x64-lossy.webp', type: 'webp' },
  { name: 'photo-96x64-lossless.webp', type: 'webp' },
  { name: 'photo-96x64-alpha.webp', type: 'webp' },
  { name: 'photo-96x64.avif', type: 'avif' },
];
