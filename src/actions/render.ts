// Owns `render`: every node's machine config of a spec, plaintext (0600), into a directory for inspection.
import { isIP } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { writeSecretFile } from '../core/files.js';
import { assertPlaintextTargetSafe } from '../core/git-guard.js';
import type { Plan } from '../plan/types.js';
import { clusterBundle, configSecrets, type Env } from '../clusterdir/index.js';
import { renderAllConfigs } from '../render/talos/config.js';
import { locatePatchError } from '../render/patch-location.js';

/** `cloudlab render`: every node's config of a spec, plaintext, 0600, into a directory. */
export async function runRender(o: { cwd: string; env: Env; file: string; out: string; withSecrets?: string; addresses?: string[]; force?: boolean }): Promise<{ dir: string; files: string[]; plan: Plan }> {
  // Plaintext configs never land where git would pick them up, unless forced.
  assertPlaintextTargetSafe(resolve(o.cwd, o.out), 'render --out', o.force, { dir: true });
  const { loadSpec } = await import('../spec/load.js');
  const { planCluster, resolveAddresses } = await import('../plan/planner.js');
  const loaded = loadSpec(o.file, o.cwd);
  let plan = planCluster(loaded);
  if (o.addresses?.length) {
    const discovered: Record<string, string> = {};
    for (const a of o.addresses) {
      const [name, ip] = a.split('=');
      if (!name || !ip || !plan.nodes.some((n) => n.name === name) || isIP(ip) !== 4) {
        throw new CloudlabError({ code: 'ADDRESS_INVALID', message: `--address ${a}: expected NODE=IPv4 with a node of the plan`, hint: `Nodes: ${plan.nodes.map((n) => n.name).join(', ')}`, exitCode: EXIT_INVALID });
      }
      discovered[name] = ip;
    }
    plan = resolveAddresses(plan, discovered);
  }
  const clusterDir = dirname(resolve(o.cwd, o.file));
  const { bundle } = (await clusterBundle(clusterDir, o.env, { required: true, ...(o.withSecrets ? { withSecrets: resolve(o.cwd, o.withSecrets) } : {}) }))!;
  const secrets = await configSecrets(plan, clusterDir, o.env);
  let configs: Awaited<ReturnType<typeof renderAllConfigs>>;
  try {
    configs = await renderAllConfigs(plan, bundle, secrets);
  } catch (e) {
    throw locatePatchError(e, loaded);
  }
  const dir = resolve(o.cwd, o.out);
  const files: string[] = [];
  for (const [name, text] of configs) {
    const path = join(dir, `${name}.yaml`);
    writeSecretFile(path, text);
    files.push(path);
  }
  return { dir, files, plan };
}

