import { execFile, execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_DIR } from './support/process';
import { drawScene, sceneImage, scenePhoto } from './support/images';

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: BACKEND_DIR });
  dir = await mkdtemp(join(tmpdir(), 'cli-'));
  await writeFile(join(dir, 'car.jpg'), await scenePhoto());
  await writeFile(join(dir, 'star.jpg'), await sceneImage(drawScene({ shape: 'star', seed: 2 })));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const cli = (...args: string[]) =>
  run(process.execPath, [join(BACKEND_DIR, 'dist/cli.js'), ...args], {
    cwd: dir,
    env: { ...process.env },
  }).then(
    (r) => ({ code: 0, ...r }),
    (e: unknown) => e as { code: number; stdout: string; stderr: string },
  );

describe('bgremove CLI', () => {
  it('cuts out one file', async () => {
    const { code, stderr } = await cli(join(dir, 'car.jpg'), 'car.png', '--output', 'cutout');
    expect(code).toBe(0);
    expect(stderr).toContain('car.png (480x360)');
    expect(await sharp(join(dir, 'car.png')).metadata()).toMatchObject({
      width: 480,
      height: 360,
      channels: 4,
    });
  });

  it('does a folder with progress, reports the files it could not do, and exits 1 for them', async () => {
    const input = join(dir, 'in');
    await mkdir(input);
    await copyFile(join(dir, 'car.jpg'), join(input, 'a.jpg'));
    await copyFile(join(dir, 'star.jpg'), join(input, 'b.jpg'));
    await writeFile(join(input, 'c.jpg'), 'not a photo');
    const { code, stderr } = await cli(input, join(dir, 'out'), '--max-side', '200');
    expect(code).toBe(1);
    expect(stderr).toMatch(/2 of 3 done/);
    expect(stderr).toMatch(/failed c\.jpg: unsupported_media_type/);
    expect((await readdir(join(dir, 'out'))).sort()).toEqual(['a.matte.png', 'b.matte.png']);
    expect(await sharp(join(dir, 'out', 'a.matte.png')).metadata()).toMatchObject({
      width: 200,
      height: 150,
    });
  });

  it('refuses bad options clearly', async () => {
    const { code, stderr } = await cli('x.jpg', '--output', 'mask');
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/mask.*matte, cutout|Allowed choices are matte, cutout/);
  });
});
