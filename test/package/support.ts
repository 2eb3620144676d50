// Support for the package tests: running the bin as if Node were another version.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs `bin` as if Node were `version`: a --require preload replaces process.versions before the bin starts. */
export function runAsNode(bin: string, version: string, args: string[]): SpawnSyncReturns<string> {
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-floor-'));
  const preload = join(dir, 'fake-node-version.cjs');
  writeFileSync(preload, `Object.defineProperty(process, 'versions', { value: { ...process.versions, node: ${JSON.stringify(version)} } });\n`);
  return spawnSync(process.execPath, ['--require', preload, bin, ...args], { encoding: 'utf8' });
}
