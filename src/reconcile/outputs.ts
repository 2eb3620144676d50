// Owns deciding whether an existing client config still serves: same API server and CA, and a client
// certificate valid for at least 30 more days. Then apply keeps the file instead of rewriting it.
import { X509Certificate } from 'node:crypto';
import { parse } from 'yaml';

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
