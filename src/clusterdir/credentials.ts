// Owns the cluster's Talos client credentials: the existing encrypted talosconfig's certificate while it is still
// valid (same CA, 30+ days left), else a fresh admin certificate from the bundle.
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { registerSecret } from '../core/redact.js';
import type { Plan } from '../plan/types.js';
import type { TalosCredentials } from '../providers/talos/client.js';
import type { SecretsBundle } from '../render/talos/secrets.js';
import { generateTalosconfig, parseTalosconfig } from '../render/talos/talosconfig.js';
import { readSecretFile } from '../sops/files.js';
import { TALOSCONFIG_FILE } from './layout.js';

/**
 * Talos client credentials: the existing encrypted talosconfig's certificate while it is still valid (same CA, 30+ days
 * left; it names no endpoints, so a changed address list keeps it), else a fresh admin cert. The outputs step writes
 * the talosconfig with the final addresses (C3).
 */
export async function talosCredentials(dir: string, plan: Plan, bundle: SecretsBundle, env: NodeJS.ProcessEnv): Promise<{ creds: TalosCredentials; talosconfig: string; reused: boolean }> {
  const endpoints = plan.nodes.filter((n) => n.role === 'controlplane' && n.ip).map((n) => n.ip!);
  const nodes = plan.nodes.filter((n) => n.ip).map((n) => n.ip!);
  const file = join(dir, TALOSCONFIG_FILE);
  if (existsSync(file)) {
    try {
      const text = await readSecretFile(file, env);
      const parsed = parseTalosconfig(text, file);
      const ctx = parsed.contexts[plan.cluster.name];
      if (ctx) {
        const cert = new X509Certificate(ctx.crt);
        const thirtyDays = 30 * 24 * 3600 * 1000;
        const sameCa = ctx.ca.trim() === bundle.certs.os.crt.trim();
        if (sameCa && new Date(cert.validTo).getTime() - Date.now() > thirtyDays) {
          registerSecret(ctx.key);
          return { creds: { ca: ctx.ca, crt: ctx.crt, key: ctx.key }, talosconfig: text, reused: true };
        }
      }
    } catch {
      // Unreadable or stale: a new one is generated below and replaces it at the end of apply.
    }
  }
  const talosconfig = await generateTalosconfig(bundle, { context: plan.cluster.name, endpoints, nodes });
  const ctx = parseTalosconfig(talosconfig).contexts[plan.cluster.name]!;
  registerSecret(ctx.key);
  return { creds: { ca: ctx.ca, crt: ctx.crt, key: ctx.key }, talosconfig, reused: false };
}
