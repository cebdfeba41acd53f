import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';

const execFileAsync = promisify(execFile);

/**
 * Puts the tarball of `pkg@version` into `destDir` and returns its path. The default runs
 * `npm pack`; tests inject one that copies a locally built tarball.
 */
export type NpmTarballProvider = (pkg: string, version: string, destDir: string) => Promise<string>;

const packOutputSchema = z.array(z.object({ filename: z.string(), size: z.number().optional() })).min(1);

/** `npm pack <pkg>@<version>`: the registry tarball, checked by npm against the registry's integrity. */
export const npmPackTarball: NpmTarballProvider = async (pkg, version, destDir) => {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(
      'npm',
      ['pack', `${pkg}@${version}`, '--pack-destination', destDir, '--json', '--ignore-scripts'],
      { maxBuffer: 16 << 20, env: { ...process.env, npm_config_loglevel: 'error' } },
    ));
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`npm pack ${pkg}@${version} failed${stderr ? `: ${lastLines(stderr, 3)}` : ''}`, {
      cause: error,
    });
  }
  const [packed] = packOutputSchema.parse(JSON.parse(stdout));
  if (packed === undefined) throw new Error(`npm pack ${pkg}@${version} reported no tarball`);
  return join(destDir, packed.filename);
};

function lastLines(text: string, count: number): string {
  return text.split('\n').slice(-count).join(' | ');
}

/** Unpack a .tgz with the system `tar` into a fresh folder under `workDir`; returns the package root. */
export async function extractTarball(tarball: string, workDir: string): Promise<string> {
  await mkdir(workDir, { recursive: true });
  const into = await mkdtemp(join(workDir, 'unpacked-'));
  try {
    await execFileAsync('tar', ['-xzf', tarball, '-C', into, '--no-same-owner', '--no-same-permissions']);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`could not unpack ${tarball}${stderr ? `: ${stderr}` : ''}`, { cause: error });
  }
  // npm tarballs hold one top folder, normally `package/`.
  const entries = await readdir(into, { withFileTypes: true });
  const [root, ...others] = entries.filter((entry) => entry.isDirectory());
  if (root === undefined || others.length > 0) throw new Error(`${tarball} does not hold one top folder`);
  return join(into, root.name);
}
