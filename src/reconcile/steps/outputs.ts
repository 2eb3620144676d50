// Owns the outputs step: the talosconfig and kubeconfig written SOPS-encrypted into the cluster directory,
// left untouched when their content did not change (no churn in git).
import { join } from 'node:path';
import { cluster, defineStep } from './step.js';

export const outputsStep = defineStep({
  name: 'outputs',
  targets: cluster,
  id: () => 'outputs',
  title: () => 'Write encrypted talosconfig and kubeconfig',
  // After the removals: the talosconfig names only the control planes that remain.
  after: (f) => ['health', ...f.removals.map((r) => `remove:${r.name}`)],
  guard: (s) => (s.dryRun ? 'written during apply' : true),
  run: async (s) => {
    const { TALOSCONFIG_FILE, KUBECONFIG_FILE, writeEncryptedFile, readSecretFile } = await import('../../sops/index.js');
    const { existsSync } = await import('node:fs');
    const { sameKubeconfig } = await import('../outputs.js');
    const { dir, env } = s.session;
    const written: string[] = [];
    const write = async (rel: string, text: string, same: (old: string) => boolean): Promise<void> => {
      const file = join(dir, rel);
      if (existsSync(file)) {
        const old = await readSecretFile(file, env).catch(() => null);
        // Unchanged content (same endpoint, CA, still-valid credentials) keeps its file.
        if (old !== null && (old === text || same(old))) return;
      }
      await writeEncryptedFile(file, text, env);
      written.push(rel);
    };
    await write(TALOSCONFIG_FILE, await s.talos.talosconfig(), () => false);
    await write(KUBECONFIG_FILE, s.kubeconfig, (old) => sameKubeconfig(old, s.kubeconfig));
    s.summary.outputs = written;
    return written.length ? `wrote ${written.join(', ')}` : 'unchanged';
  },
});
