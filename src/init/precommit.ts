// Owns what cloudlab's pre-commit hook checks in the staged tree: every changed cluster spec validates, every staged
// `*.enc.*` file is a SOPS file (not a decrypted copy under an encrypted name), and no staged line adds a plaintext
// secret. Returns the findings; the CLI prints them.
import { basename } from 'node:path';
import { parse } from 'yaml';
import { CloudlabError, EXIT_INVALID, toCloudlabError, type CloudlabError as CE } from '../core/errors.js';
import { repoRoot, stagedContent, stagedFiles } from '../scan/git.js';
import { scan, type Finding } from '../scan/scanner.js';

export interface PreCommitResult {
  specs: Array<{ file: string; error?: CE }>;
  encrypted: Array<{ file: string; error?: CE }>;
  secrets: Finding[];
  ok: boolean;
}

/** A staged YAML file is a cluster spec when it says so (apiVersion cloudlab.dev/…, kind Cluster). */
function isSpec(file: string, text: string): boolean {
  if (!/\.ya?ml$/.test(file) || /\.enc\./.test(basename(file))) return false;
  if (!/^apiVersion:\s*cloudlab\.dev\//m.test(text)) return false;
  try {
    const doc = parse(text) as { kind?: unknown } | null;
    return doc?.kind === 'Cluster';
  } catch {
    // A spec broken enough not to parse is still a spec to report.
    return /^kind:\s*Cluster\s*$/m.test(text);
  }
}

export async function preCommit(cwd: string): Promise<PreCommitResult> {
  const root = repoRoot(cwd);
  if (!root) throw new CloudlabError({ code: 'NOT_A_REPO', exitCode: EXIT_INVALID, message: `${cwd} is not inside a git repository`, hint: 'the pre-commit hook runs inside the repository git calls it from' });
  const { parseSpec } = await import('../spec/load.js');
  const { planCluster } = await import('../plan/planner.js');
  const { formatFromPath } = await import('../sops/codec.js');
  const { plaintextValues } = await import('../sops/tools.js');
  const specs: PreCommitResult['specs'] = [];
  const encrypted: PreCommitResult['encrypted'] = [];
  for (const file of stagedFiles(root)) {
    const buf = stagedContent(root, file);
    const text = buf.toString('utf8');
    if (/\.enc\./.test(basename(file))) {
      try {
        const clear = plaintextValues(file, formatFromPath(file), buf);
        if (clear.length) throw new CloudlabError({ code: 'SOPS_VALUE_IN_CLEAR', exitCode: EXIT_INVALID, message: `${file} has values in the clear that its rule says are encrypted: ${clear.join(', ')}`, hint: `set them with \`cloudlab sops set\` or \`cloudlab sops edit ${file}\` instead of editing the encrypted file by hand` });
        encrypted.push({ file });
      } catch (e) {
        encrypted.push({ file, error: toCloudlabError(e) });
      }
    } else if (isSpec(file, text)) {
      try {
        planCluster(parseSpec(text, file, `${root}/${file}`));
        specs.push({ file });
      } catch (e) {
        specs.push({ file, error: toCloudlabError(e) });
      }
    }
  }
  const { findings } = await scan({ cwd: root, staged: true });
  const ok = specs.every((s) => !s.error) && encrypted.every((s) => !s.error) && findings.length === 0;
  return { specs, encrypted, secrets: findings, ok };
}
