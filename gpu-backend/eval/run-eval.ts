/**
 * `npm run eval`: the real pipeline over the labelled sets in EVAL_DIR, the raw model output and
 * the default (refined) output in the same run, with every metric of docs/QUALITY.md per set.
 *
 *   npm run eval                                  # all sets, table on stdout
 *   npm run eval -- --model u2netp --json out.json
 *   npm run eval -- --sheet sheet.jpg             # contact sheet: photo, raw, refined, cutout
 *   npm run eval -- --options 'refine=auto&subject=all' --sets alphamatting-lowres
 *
 * A tool, not a test: it prints figures and says which targets they meet.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MODEL_MANIFEST, describeZodError, removeBackgroundQuerySchema } from '@bgremove/shared';
import { Command } from 'commander';
import sharp, { type OverlayOptions, type Sharp } from 'sharp';
import { toolConfig } from '../src/config';
import { toolRegistry } from '../src/tool-registry';
import { removeBackground, type RemoveBackgroundOptions } from '../src/pipeline/remove-background';
import { colourError, colourErrorAtTrueAlpha, transitionBand } from './colour';
import { evalDataMissing, evalDir, listPairs, readAlpha, readMatte, type Pair } from './data';
import { CachingEngine, type EngineLike } from './engine-cache';
import { estimateForegroundMl } from './foreground-ml';
import {
  fMeasureCurve,
  ghostRate,
  gradientError,
  holeRate,
  iou,
  mae,
  mse,
  sad,
  setFMeasure,
  type Matte,
} from './metrics';

const REPO_ROOT = resolve(new URL('../..', import.meta.url).pathname);
const LABELLED_SETS = ['alphamatting-lowres', 'ecssd'] as const;
const ALL_SETS = [...LABELLED_SETS, 'rembg-fixtures'] as const;
/** The plain backgrounds the cutouts are put over for the colour error (two ecssd photos too). */
const VIEW_BACKGROUNDS: [number, number, number][] = [
  [0, 0, 0],
  [255, 255, 255],
  [0, 90, 255],
];
const BAND_RADIUS = 3;

interface Options {
  model: string;
  sets: string;
  options: string;
  baseline: string;
  limit?: string;
  json?: string | boolean;
  sheet?: string;
  colour: boolean;
  cache: string | false;
  modelsDir?: string;
  providers: string;
}

type Variant = 'raw' | 'refined';
const VARIANTS: Variant[] = ['raw', 'refined'];

interface ImageScores {
  id: string;
  mae: number;
  iou: number;
  sad: number;
  mse: number;
  grad: number;
  holeRate: number | undefined;
  ghostRate: number | undefined;
  refineMs: number | undefined;
}

interface SetSummary {
  pairs: number;
  mae: number;
  iou: number;
  sad: number;
  mse: number;
  grad: number;
  holeRate: number;
  ghostRate: number;
  maxF: number;
  /** The colour step's own error: the cutout's colours under the GT alpha (docs/QUALITY.md). */
  colourError?: number;
  /** End to end: the cutout (its own alpha and colours) over new backgrounds vs the truth. */
  compositeError?: number;
  refineMs?: number;
}

const mean = (values: (number | undefined)[]): number => {
  const present = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  return present.length === 0 ? NaN : present.reduce((a, b) => a + b, 0) / present.length;
};

function parseOptions(text: string, output: 'matte' | 'cutout'): RemoveBackgroundOptions {
  const parsed = removeBackgroundQuerySchema.safeParse({
    ...Object.fromEntries(new URLSearchParams(text)),
    output,
  });
  if (!parsed.success) throw new Error(`bad options "${text}": ${describeZodError(parsed.error)}`);
  return parsed.data;
}

function scores(id: string, pred: Matte, gt: Matte, refineMs: number | undefined): ImageScores {
  if (pred.width !== gt.width || pred.height !== gt.height) {
    throw new Error(`${id}: output ${pred.width}x${pred.height}, ground truth ${gt.width}x${gt.height}`);
  }
  return {
    id,
    mae: mae(pred.data, gt.data),
    iou: iou(pred.data, gt.data),
    sad: sad(pred.data, gt.data),
    mse: mse(pred.data, gt.data),
    grad: gradientError(pred, gt),
    holeRate: holeRate(pred.data, gt.data),
    ghostRate: ghostRate(pred.data, gt.data),
    refineMs,
  };
}

function summarise(images: ImageScores[], curves: Float64Array[]): SetSummary {
  return {
    pairs: images.length,
    mae: mean(images.map((s) => s.mae)),
    iou: mean(images.map((s) => s.iou)),
    sad: mean(images.map((s) => s.sad)),
    mse: mean(images.map((s) => s.mse)),
    grad: mean(images.map((s) => s.grad)),
    holeRate: mean(images.map((s) => s.holeRate)),
    ghostRate: mean(images.map((s) => s.ghostRate)),
    maxF: setFMeasure(curves).maxF,
    refineMs: mean(images.map((s) => s.refineMs)),
  };
}

async function rawRgb(input: Buffer | string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(input)
    .autoOrient()
    .removeAlpha()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/** The colour of [green, magenta, blue] farthest from the photo's mean colour. */
function contrasting(rgb: Uint8Array): [number, number, number] {
  const m = [0, 0, 0];
  for (let i = 0; i < rgb.length; i += 3) for (let c = 0; c < 3; c++) m[c]! += rgb[i + c]!;
  const n = rgb.length / 3;
  const candidates: [number, number, number][] = [
    [0, 200, 60],
    [255, 0, 200],
    [0, 90, 255],
  ];
  let best = candidates[0]!;
  let bestDistance = -1;
  for (const colour of candidates) {
    const d = colour.reduce((s, v, c) => s + (v - m[c]! / n) ** 2, 0);
    if (d > bestDistance) [best, bestDistance] = [colour, d];
  }
  return best;
}

const CELL = 180;

async function cell(image: Sharp): Promise<Buffer> {
  return image
    .resize(CELL, CELL, { fit: 'contain', background: { r: 128, g: 128, b: 128, alpha: 1 } })
    .flatten({ background: '#808080' })
    .removeAlpha()
    .toColourspace('srgb')
    .png()
    .toBuffer();
}

interface SheetRow {
  label: string;
  cells: Buffer[];
}

async function writeSheet(rows: SheetRow[], file: string): Promise<void> {
  const label = 120;
  const width = label + CELL * 4;
  const composites: OverlayOptions[] = [];
  rows.forEach((row, r) => {
    const text = Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${label}" height="${CELL}"><text x="6" y="${CELL / 2}" font-family="sans-serif" font-size="13" fill="#fff">${row.label.replace(/[<&>]/g, '')}</text></svg>`,
    );
    composites.push({ input: text, top: r * CELL, left: 0 });
    row.cells.forEach((input, c) => composites.push({ input, top: r * CELL, left: label + c * CELL }));
  });
  await sharp({ create: { width, height: Math.max(1, rows.length) * CELL, channels: 3, background: '#333' } })
    .composite(composites)
    .jpeg({ quality: 85 })
    .toFile(file);
}

async function main(options: Options): Promise<void> {
  const sets = options.sets.split(',').map((s) => s.trim());
  for (const set of sets) {
    if (!(ALL_SETS as readonly string[]).includes(set))
      throw new Error(`unknown set "${set}"; sets: ${ALL_SETS.join(', ')}`);
  }
  const missing = evalDataMissing(...sets);
  if (missing) throw new Error(missing);
  const variants: Record<Variant, { matte: RemoveBackgroundOptions; cutout: RemoveBackgroundOptions }> = {
    raw: { matte: parseOptions(options.baseline, 'matte'), cutout: parseOptions(options.baseline, 'cutout') },
    refined: {
      matte: parseOptions(options.options, 'matte'),
      cutout: parseOptions(options.options, 'cutout'),
    },
  };
  for (const v of VARIANTS) variants[v].matte.model = variants[v].cutout.model = options.model;
  const limit = options.limit === undefined ? Infinity : Number(options.limit);

  const config = toolConfig(options);
  const registry = toolRegistry(config);
  const cacheDir = options.cache === false ? undefined : resolve(options.cache);
  const engine = new CachingEngine(registry as unknown as EngineLike, cacheDir);
  const pipelineEngine = engine as unknown as Parameters<typeof removeBackground>[2];
  const settings = { maxPixels: config.MAX_INPUT_PIXELS, pngCompressionLevel: config.PNG_COMPRESSION_LEVEL };
  const run = (bytes: Buffer, o: RemoveBackgroundOptions) =>
    removeBackground(bytes, o, pipelineEngine, settings);

  const started = performance.now();
  const report: Record<string, Record<Variant, SetSummary> & { images: Record<Variant, ImageScores[]> }> = {};
  const sheetRows: SheetRow[] = [];
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    log(`eval: loading ${options.model} on ${config.ORT_PROVIDERS.join(', ')}; data ${evalDir()}`);
    await registry.loadAll();
    for (const set of sets) {
      const pairs: Pair[] =
        set === 'rembg-fixtures' ? rembgPairs(options.model) : listPairs(set).slice(0, limit);
      if (pairs.length === 0) {
        log(`${set}: no pairs for model ${options.model}; skipped`);
        continue;
      }
      const images: Record<Variant, ImageScores[]> = { raw: [], refined: [] };
      const curves: Record<Variant, Float64Array[]> = { raw: [], refined: [] };
      for (const [n, pair] of pairs.entries()) {
        const bytes = await readFile(pair.image);
        const gt = await (set === 'rembg-fixtures'
          ? readAlpha(await readFile(pair.mask))
          : readMatte(pair.mask));
        const mattes: Partial<Record<Variant, Matte>> = {};
        for (const v of VARIANTS) {
          const result = await run(bytes, variants[v].matte);
          const pred = await readMatte(result.bytes);
          mattes[v] = pred;
          const refineMs = result.timings.refine;
          images[v].push(scores(pair.id, pred, gt, refineMs));
          curves[v].push(fMeasureCurve(pred.data, gt.data));
        }
        if (options.sheet) {
          const cut = await run(bytes, variants.refined.cutout);
          const rgb = await rawRgb(bytes);
          const [r, g, b] = contrasting(rgb.data);
          const greyOf = (m: Matte) =>
            sharp(m.data, { raw: { width: m.width, height: m.height, channels: 1 } });
          sheetRows.push({
            label: `${set.slice(0, 8)} ${pair.id}`,
            cells: await Promise.all([
              cell(sharp(bytes).autoOrient()),
              cell(greyOf(mattes.raw!)),
              cell(greyOf(mattes.refined!)),
              cell(sharp(cut.bytes).flatten({ background: { r, g, b } })),
            ]),
          });
        }
        log(
          `${set} ${n + 1}/${pairs.length} ${pair.id}: MAE raw ${images.raw.at(-1)!.mae.toFixed(4)} refined ${images.refined.at(-1)!.mae.toFixed(4)}`,
        );
      }
      const summary = {
        raw: summarise(images.raw, curves.raw),
        refined: summarise(images.refined, curves.refined),
        images,
      };
      if (options.colour && set === 'alphamatting-lowres') {
        const errors = await colourErrors(pairs, run, variants, log);
        summary.raw.colourError = errors.raw.colour;
        summary.refined.colourError = errors.refined.colour;
        summary.raw.compositeError = errors.raw.composite;
        summary.refined.compositeError = errors.refined.composite;
      }
      report[set] = summary;
    }
  } finally {
    await registry.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const out = {
    model: options.model,
    baseline: options.baseline,
    options: options.options,
    evalDir: evalDir(),
    modelRuns: engine.modelRuns,
    cacheHits: engine.cacheHits,
    seconds,
    sets: report,
    targets: targets(report),
  };
  if (options.sheet) {
    await writeSheet(sheetRows, options.sheet);
    log(`contact sheet: ${options.sheet} (${sheetRows.length} rows: photo, raw, refined, cutout)`);
  }
  if (options.json) {
    const text = JSON.stringify(out, null, 2);
    if (typeof options.json === 'string') writeFileSync(options.json, text);
    else process.stdout.write(`${text}\n`);
  }
  if (options.json !== true) printTables(out.sets, out.targets, { ...out, seconds });
}

function rembgPairs(model: string): Pair[] {
  const dir = join(evalDir(), 'rembg-fixtures');
  const names = ['anime-girl-1', 'car-1', 'cloth-1', 'plants-1'];
  const rembgName = model.replace(/-quint8$/, '');
  return names
    .map((id) => ({
      id,
      image: join(dir, 'fixtures', `${id}.jpg`),
      mask: join(dir, 'results', `${id}.${rembgName}.png`),
    }))
    .filter((p) => existsSync(p.mask));
}

/**
 * Colour errors of cutouts (docs/QUALITY.md): each alphamatting photo's true foreground F is
 * estimated from its GT alpha (multi-level method). The colour error puts the cutout's colours
 * under the GT alpha (so the alpha's own errors do not mask what the colours do); the composite
 * error puts the whole cutout (its own alpha) and the truth, F under the GT alpha, over new
 * backgrounds (plain colours and photos). Both in the transition band.
 */
async function colourErrors(
  pairs: Pair[],
  run: (bytes: Buffer, o: RemoveBackgroundOptions) => ReturnType<typeof removeBackground>,
  variants: Record<Variant, { cutout: RemoveBackgroundOptions }>,
  log: (line: string) => void,
): Promise<Record<Variant, { colour: number; composite: number }>> {
  const photoBackgrounds = evalDataMissing('ecssd')
    ? []
    : listPairs('ecssd')
        .slice(0, 2)
        .map((p) => p.image);
  const errors: Record<Variant, number[]> = { raw: [], refined: [] };
  const colour: Record<Variant, number[]> = { raw: [], refined: [] };
  for (const [n, pair] of pairs.entries()) {
    const bytes = await readFile(pair.image);
    const photo = await rawRgb(bytes);
    const gt = await readMatte(pair.mask);
    const { width, height } = photo;
    const F = estimateForegroundMl(photo.data, gt.data, width, height);
    const band = transitionBand(gt.data, width, height, BAND_RADIUS);
    const backgrounds: Uint8Array[] = [];
    for (const [r, g, b] of VIEW_BACKGROUNDS) {
      const plain = new Uint8Array(width * height * 3);
      for (let i = 0; i < plain.length; i += 3) plain.set([r, g, b], i);
      backgrounds.push(plain);
    }
    for (const file of photoBackgrounds) {
      const { data } = await sharp(file)
        .resize(width, height, { fit: 'cover' })
        .removeAlpha()
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true });
      backgrounds.push(new Uint8Array(data));
    }
    for (const v of VARIANTS) {
      const result = await run(bytes, variants[v].cutout);
      const rgba = new Uint8Array(await sharp(result.bytes).ensureAlpha().raw().toBuffer());
      for (const background of backgrounds) errors[v].push(colourError(rgba, F, gt.data, band, background));
      colour[v].push(colourErrorAtTrueAlpha(rgba, F, gt.data, band));
    }
    const k = backgrounds.length;
    log(
      `colour ${n + 1}/${pairs.length} ${pair.id}: colour raw ${colour.raw.at(-1)!.toFixed(2)} refined ${colour.refined.at(-1)!.toFixed(2)}; composite raw ${mean(errors.raw.slice(-k)).toFixed(2)} refined ${mean(errors.refined.slice(-k)).toFixed(2)}`,
    );
  }
  return {
    raw: { colour: mean(colour.raw), composite: mean(errors.raw) },
    refined: { colour: mean(colour.refined), composite: mean(errors.refined) },
  };
}

interface TargetCheck {
  target: string;
  value: string;
  met: boolean;
}

function targets(report: Record<string, Record<Variant, SetSummary>>): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const add = (target: string, value: number, met: boolean, digits = 4) =>
    checks.push({ target, value: value.toFixed(digits), met });
  const am = report['alphamatting-lowres'];
  if (am) {
    add('alphamatting-lowres MAE <= 0.060', am.refined.mae, am.refined.mae <= 0.06);
    add('alphamatting-lowres IoU >= 0.88', am.refined.iou, am.refined.iou >= 0.88);
    add(
      `alphamatting-lowres SAD no worse than raw (${am.raw.sad.toFixed(2)})`,
      am.refined.sad,
      am.refined.sad <= am.raw.sad,
      2,
    );
    add(
      `alphamatting-lowres Grad no worse than raw (${am.raw.grad.toFixed(3)})`,
      am.refined.grad,
      am.refined.grad <= am.raw.grad,
      3,
    );
    if (am.raw.colourError !== undefined && am.refined.colourError !== undefined) {
      add(
        `cutout colour error >= 30% below raw (${am.raw.colourError.toFixed(2)})`,
        am.refined.colourError,
        am.refined.colourError <= 0.7 * am.raw.colourError,
        2,
      );
    }
  }
  const ec = report.ecssd;
  if (ec) {
    add('ecssd MAE <= 0.040', ec.refined.mae, ec.refined.mae <= 0.04);
    add('ecssd IoU >= 0.87', ec.refined.iou, ec.refined.iou >= 0.87);
  }
  for (const [set, s] of [
    ['alphamatting-lowres', am],
    ['ecssd', ec],
  ] as const) {
    if (!s) continue;
    add(
      `${set} hole rate <= half of raw (${s.raw.holeRate.toFixed(4)})`,
      s.refined.holeRate,
      s.refined.holeRate <= s.raw.holeRate / 2,
    );
    add(
      `${set} ghost rate <= half of raw (${s.raw.ghostRate.toFixed(4)})`,
      s.refined.ghostRate,
      s.refined.ghostRate <= s.raw.ghostRate / 2,
    );
  }
  return checks;
}

function printTables(
  sets: Record<string, Record<Variant, SetSummary>>,
  checks: TargetCheck[],
  meta: {
    model: string;
    options: string;
    baseline: string;
    seconds: number;
    modelRuns: number;
    cacheHits: number;
  },
): void {
  const lines: string[] = [];
  lines.push(`model ${meta.model}; raw = "${meta.baseline}", refined = "${meta.options || '(defaults)'}"`);
  lines.push('');
  lines.push(
    '| set | variant | pairs | MAE | IoU@0.5 | SAD | MSE | Grad | hole | ghost | maxF | colour err | composite err | refine ms |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [set, s] of Object.entries(sets)) {
    for (const v of VARIANTS) {
      const r = s[v];
      lines.push(
        `| ${set} | ${v} | ${r.pairs} | ${r.mae.toFixed(4)} | ${r.iou.toFixed(4)} | ${r.sad.toFixed(2)} | ${r.mse.toFixed(4)} | ${r.grad.toFixed(3)} | ${r.holeRate.toFixed(4)} | ${r.ghostRate.toFixed(4)} | ${r.maxF.toFixed(4)} | ${r.colourError?.toFixed(2) ?? '—'} | ${r.compositeError?.toFixed(2) ?? '—'} | ${r.refineMs === undefined || Number.isNaN(r.refineMs) ? '—' : r.refineMs.toFixed(1)} |`,
      );
    }
  }
  lines.push('');
  for (const c of checks) lines.push(`${c.met ? 'met    ' : 'NOT MET'}  ${c.target}: ${c.value}`);
  lines.push('');
  lines.push(`${meta.seconds.toFixed(0)} s; model runs ${meta.modelRuns}, cached ${meta.cacheHits}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

const program = new Command('eval')
  .description('Quality of the pipeline on the labelled sets in EVAL_DIR: raw and refined, every metric.')
  .option('-m, --model <id>', 'model id', MODEL_MANIFEST.default)
  .option('--sets <list>', 'comma-separated sets', ALL_SETS.join(','))
  .option(
    '--options <query>',
    "the refined variant's result options, as a query string (default: the defaults)",
    '',
  )
  .option('--baseline <query>', "the raw variant's options", 'refine=none&subject=all')
  .option('--limit <n>', 'at most this many pairs per labelled set')
  .option('--json [file]', 'write the JSON report to a file (or to stdout instead of the table)')
  .option(
    '--sheet <file>',
    'write a contact sheet (JPEG): photo, raw matte, refined matte, cutout over a contrasting colour',
  )
  .option('--no-colour', 'skip the cutout colour error (composites over new backgrounds)')
  .option('--cache <dir>', 'keep model outputs here between runs', join(REPO_ROOT, '.state', 'eval-cache'))
  .option('--no-cache', 'run the model for every photo')
  .option('--models-dir <dir>', 'folder with the installed weights (default: MODELS_DIR or models/weights)')
  .option('--providers <list>', 'ONNX Runtime execution providers: cpu, webgpu, cuda', 'cpu')
  .action(async (options: Options) => {
    try {
      await main(options);
    } catch (error) {
      process.stderr.write(`eval: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    }
  });

await program.parseAsync();
