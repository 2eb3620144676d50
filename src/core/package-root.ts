// Owns finding cloudlab's own installed files (package.json, examples/, schema/) from wherever the code runs: the
// compiled tree (dist/src/…), a bundle, or a global install. Walks up from this module to cloudlab's package.json.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | null = null;

/** The directory holding cloudlab's package.json. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'cloudlab') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('cloudlab package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** A path inside the installed package, e.g. `packagePath('schema', 'cluster.schema.json')`. */
export function packagePath(...parts: string[]): string {
  return join(packageRoot(), ...parts);
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
}
