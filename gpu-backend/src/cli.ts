/**
 * Local command line, like rembg's: one file or a whole folder (with a progress bar), matte or
 * cutout, any installed model. Runs the same pipeline as the server, without HTTP.
 *
 *   bgremove photo.jpg photo.matte.png
 *   bgremove photos/ out/ --output cutout --model isnet-general-use
 */
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import {
  AppError,
  MODEL_MANIFEST,
  OUTPUT_FORMATS,
  OUTPUT_KINDS,
  REFINE_MODES,
  describeZodError,
  SUBJECT_MODES,
  removeBackgroundQuerySchema,
} from '@bgremove/shared';
import { SingleBar, Presets } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { toolConfig } from './config';
import { toolRegistry } from './tool-registry';
import { closePixelPool } from './matte/pixel-pool';
import { removeBackground } from './pipeline/remove-background';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.avif']);

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
};

interface CliOptions {
  model: string;
  output: (typeof OUTPUT_KINDS)[number];
  format: (typeof OUTPUT_FORMATS)[number];
  maxSide?: number;
  refine: (typeof REFINE_MODES)[number];
  subject: (typeof SUBJECT_MODES)[number];
  roi?: string;
  modelsDir?: string;
  providers: string;
}

function outputPath(input: string, dir: string, options: CliOptions): string {
  return join(dir, `${basename(input, extname(input))}.${options.output}.${options.format}`);
}

async function run(input: string, output: string | undefined, options: CliOptions): Promise<void> {
  const config = toolConfig(options);
  const parsed = removeBackgroundQuerySchema.safeParse({
    model: options.model,
    output: options.output,
    format: options.format,
    ...(options.maxSide && { max_side: String(options.maxSide) }),
    refine: options.refine,
    subject: options.subject,
    ...(options.roi !== undefined && { roi: options.roi }),
  });
  if (!parsed.success) throw new InvalidArgumentError(describeZodError(parsed.error));
  const query = parsed.data;
  const registry = toolRegistry(config);
  const settings = { maxPixels: config.MAX_INPUT_PIXELS, pngCompressionLevel: config.PNG_COMPRESSION_LEVEL };
  try {
    process.stderr.write(`loading ${options.model} on ${config.ORT_PROVIDERS.join(', ')}...\n`);
    await registry.loadAll();
    const isDir = (await stat(input)).isDirectory();
    if (!isDir) {
      const target = output ?? outputPath(input, '.', options);
      const result = await removeBackground(await readFile(input), query, registry, settings);
      await writeFile(target, result.bytes);
      process.stderr.write(`${input} -> ${target} (${result.width}x${result.height})\n`);
      return;
    }
    if (!output) throw new InvalidArgumentError('a folder input needs an output folder');
    await mkdir(output, { recursive: true });
    const files = (await readdir(input)).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort();
    const bar = new SingleBar(
      { format: ' {bar} {value}/{total} {file} | ETA {eta_formatted}' },
      Presets.shades_classic,
    );
    bar.start(files.length, 0, { file: '' });
    const failures: string[] = [];
    for (const file of files) {
      bar.update({ file });
      try {
        const result = await removeBackground(await readFile(join(input, file)), query, registry, settings);
        await writeFile(outputPath(file, output, options), result.bytes);
      } catch (error) {
        failures.push(
          `${file}: ${error instanceof AppError ? `${error.code}: ${error.message}` : String(error)}`,
        );
      }
      bar.increment();
    }
    bar.stop();
    process.stderr.write(`${files.length - failures.length} of ${files.length} done -> ${output}\n`);
    for (const line of failures) process.stderr.write(`  failed ${line}\n`);
    if (failures.length > 0) process.exitCode = 1;
  } finally {
    await registry.close();
    await closePixelPool();
  }
}

const program = new Command('bgremove')
  .description('Remove the background of a photo, or of every photo in a folder.')
  .argument('<input>', 'an image file (JPEG, PNG, WebP, AVIF) or a folder of them')
  .argument('[output]', 'output file, or folder for a folder input (default: <name>.<output>.<format> here)')
  .addOption(new Option('-m, --model <id>', 'model id').default(MODEL_MANIFEST.default))
  .addOption(new Option('-o, --output <kind>', 'matte or cutout').choices(OUTPUT_KINDS).default('matte'))
  .addOption(
    new Option('-f, --format <format>', 'png, webp, jpg or zip').choices(OUTPUT_FORMATS).default('png'),
  )
  .option('--max-side <pixels>', 'downscale so the longer side is at most this', positiveInt)
  .addOption(
    new Option('--refine <mode>', 'auto: refined matte and clean edge colours; none: the raw map (rembg)')
      .choices(REFINE_MODES)
      .default('auto'),
  )
  .addOption(
    new Option('--subject <mode>', 'main: only the main subject; all: every region')
      .choices(SUBJECT_MODES)
      .default('main'),
  )
  .option('--roi <x1,y1,x2,y2>', 'only this region can be foreground (pixels or percentages)')
  .option('--models-dir <dir>', 'folder with the installed weights (default: MODELS_DIR or models/weights)')
  .option('--providers <list>', 'ONNX Runtime execution providers: cpu, webgpu, cuda', 'cpu')
  .action(async (input: string, output: string | undefined, options: CliOptions) => {
    try {
      await run(input, output, options);
    } catch (error) {
      process.stderr.write(`bgremove: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    }
  });

await program.parseAsync();
