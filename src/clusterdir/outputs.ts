// Owns the encrypted outputs of a cluster directory: the talosconfig and kubeconfig apply writes (kept when
// they still serve: same API server and CA, a client certificate valid 30+ more days — no churn in git), and
// reading them back decrypted.
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { readSecretFile, writeEncryptedFile } from '../sops/files.js';
import { KUBECONFIG_FILE, TALOSCONFIG_FILE } from './layout.js';

interface Kubeconfig {
  clusters?: { cluster?: { server?: string; 'certificate-authority-data'?: string } }[];
  users?: { user?: { 'client-certificate-data'?: string } }[];
}

function summary(text: string): { server: string; ca: string; certValidTo: number } | null {
  try {
    const k = parse(text) as Kubeconfig;
    const c = k.clusters?.[0]?.cluster;
    const certB64 = k.users?.[0]?.user?.['client-certificate-data'];
    if (!c?.server || !c['certificate-authority-data'] || !certB64) return null;
    const cert = new X509Certificate(Buffer.from(certB64, 'base64'));
    return { server: c.server, ca: c['certificate-authority-data'], certValidTo: new Date(cert.validTo).getTime() };
  } catch {
    return null;
  }
}

const THIRTY_DAYS = 30 * 24 * 3600 * 1000;

export function sameKubeconfig(oldText: string, newText: string, now = Date.now()): boolean {
  const a = summary(oldText);
  const b = summary(newText);
  return Boolean(a && b && a.server === b.server && a.ca === b.ca && a.certValidTo - now > THIRTY_DAYS);
}

/** Writes the encrypted talosconfig and kubeconfig unless unchanged; returns the files written (relative). */
export async function writeClientConfigs(dir: string, env: NodeJS.ProcessEnv, configs: { talosconfig: string; kubeconfig: string }): Promise<string[]> {
  const written: string[] = [];
  const write = async (rel: string, text: string, same: (old: string) => boolean): Promise<void> => {
    const file = join(dir, rel);
    if (existsSync(file)) {
      const old = await readSecretFile(file, env).catch(() => null);
      if (old !== null && (old === text || same(old))) return;
    }
    await writeEncryptedFile(file, text, env);
    written.push(rel);
  };
  await write(TALOSCONFIG_FILE, configs.talosconfig, () => false);
  await write(KUBECONFIG_FILE, configs.kubeconfig, (old) => sameKubeconfig(old, configs.kubeconfig));
  return written;
}

/** The decrypted kubeconfig or talosconfig of a cluster directory (an input error before the first apply). */
export async function readClientConfig(dir: string, kind: 'kubeconfig' | 'talosconfig', env: NodeJS.ProcessEnv): Promise<{ path: string; text: string }> {
  const path = join(dir, kind === 'kubeconfig' ? KUBECONFIG_FILE : TALOSCONFIG_FILE);
  if (!existsSync(path)) throw new CloudlabError({ code: 'CONFIG_NOT_FOUND', exitCode: EXIT_INVALID, message: `${path} does not exist yet`, hint: 'it is written by `cloudlab apply` once the cluster is up' });
  return { path, text: await readSecretFile(path, env) };
}
