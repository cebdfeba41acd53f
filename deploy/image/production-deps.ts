import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

interface LockEntry {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  link?: boolean;
  dev?: boolean;
}

/**
 * The folders (relative to the repository root, e.g. `node_modules/sharp`) that a workspace
 * needs at run time, read from package-lock.json: its dependencies, theirs, and so on, each
 * resolved the way Node resolves it (nearest node_modules upwards), so copying these folders to
 * the same relative paths gives the same module graph. Workspace links (`@bgremove/*`) are left
 * out: the backend bundle inlines them. Optional dependencies for other platforms are not on
 * disk and are skipped.
 */
export function productionDependencyFolders(repoRoot: string, workspace: string): string[] {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const packages = lock.packages;
  const found = new Set<string>();
  const queue: string[] = [workspace];
  while (queue.length > 0) {
    const from = queue.shift()!;
    const entry = packages[from];
    if (!entry) throw new Error(`package-lock.json has no entry "${from}" (run npm install)`);
    const names = new Set([
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.keys(entry.peerDependencies ?? {}),
    ]);
    for (const name of names) {
      const location = resolveFrom(packages, from, name);
      if (location === undefined) {
        const optional = name in (entry.optionalDependencies ?? {}) || name in (entry.peerDependencies ?? {});
        if (optional) continue;
        throw new Error(`cannot resolve ${name} (needed by ${from || 'the root'}) in package-lock.json`);
      }
      if (packages[location]!.link || found.has(location)) continue;
      if (!existsSync(join(repoRoot, location))) {
        // Platform-specific optional packages (e.g. @img/sharp-darwin-arm64) are listed but not installed.
        if (name in (entry.optionalDependencies ?? {}) || name in (entry.peerDependencies ?? {})) continue;
        throw new Error(`${location} is in package-lock.json but not installed (run npm ci)`);
      }
      found.add(location);
      queue.push(location);
    }
  }
  return [...found].sort();
}

/** `from` = "gpu-backend" or "node_modules/a/node_modules/b": nearest node_modules/<name> upwards. */
function resolveFrom(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir ? posix.join(dir, 'node_modules', name) : posix.join('node_modules', name);
    if (packages[candidate]) return candidate;
    if (!dir) return undefined;
    // Step out of "<...>/node_modules/<name or @scope/name>" or a workspace folder.
    const parts = dir.split('/');
    const nm = parts.lastIndexOf('node_modules');
    dir = nm < 0 ? '' : parts.slice(0, nm).join('/');
  }
}
