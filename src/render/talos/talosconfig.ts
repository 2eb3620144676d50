// Owns the Talos client config (talosconfig): an admin client certificate signed by the OS CA the way Talos
// requires it, written in talosctl's layout, and parsing a talosconfig back into PEM material.
import YAML from 'yaml';
import { goYaml } from '../goyaml.js';
import { CloudlabError, EXIT_INVALID } from '../../core/errors.js';
import { registerSecret } from '../../core/redact.js';
import { issueCertificate, type CertAndKey } from './pki.js';
import type { SecretsBundle } from './secrets.js';
import type { Plan } from '../../plan/types.js';

/** Talos' TalosAPIDefaultCertificateValidityDuration: 365*24h. */
export const ADMIN_CERT_VALIDITY_DAYS = 365;

/** An admin client certificate: Ed25519 (follows the OS CA), O=<roles>, no CN, keyUsage digitalSignature, EKU clientAuth only. */
export async function issueAdminCertificate(bundle: SecretsBundle, opts: { roles?: string[]; now?: Date } = {}): Promise<CertAndKey> {
  const caKeyIsEd25519 = bundle.certs.os.key.includes('ED25519 PRIVATE KEY') || !/EC PRIVATE KEY|RSA PRIVATE KEY/.test(bundle.certs.os.key);
  const cert = await issueCertificate(bundle.certs.os, {
    algorithm: caKeyIsEd25519 ? 'ed25519' : 'ecdsa-p256',
    organizations: opts.roles ?? ['os:admin'],
    usages: ['clientAuth'],
    validityDays: ADMIN_CERT_VALIDITY_DAYS,
    ...(opts.now ? { notBefore: opts.now } : {}),
  });
  registerSecret(cert.key);
  registerSecret(Buffer.from(cert.key).toString('base64'));
  return cert;
}

/** Builds talosconfig YAML text from already issued material (talosctl layout: context, contexts.<name>.{endpoints,nodes,ca,crt,key}). */
export function formatTalosconfig(opts: { context: string; endpoints: string[]; nodes?: string[]; ca: string; client: CertAndKey }): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const ctx: Record<string, unknown> = { endpoints: opts.endpoints };
  if (opts.nodes && opts.nodes.length) ctx.nodes = opts.nodes;
  ctx.ca = b64(opts.ca);
  ctx.crt = b64(opts.client.crt);
  ctx.key = b64(opts.client.key);
  return goYaml({ context: opts.context, contexts: { [opts.context]: ctx } });
}

/**
 * A talosconfig for the cluster: one context named `opts.context`, the given endpoints (control-plane addresses,
 * not the VIP) and nodes, the OS CA, and a fresh admin client certificate.
 */
export async function generateTalosconfig(
  bundle: SecretsBundle,
  opts: { context: string; endpoints: string[]; nodes?: string[]; now?: Date },
): Promise<string> {
  const client = await issueAdminCertificate(bundle, opts.now ? { now: opts.now } : {});
  return formatTalosconfig({ context: opts.context, endpoints: opts.endpoints, ...(opts.nodes ? { nodes: opts.nodes } : {}), ca: bundle.certs.os.crt, client });
}

export interface ParsedTalosconfig {
  context: string;
  contexts: Record<string, { endpoints: string[]; nodes: string[]; ca: string; crt: string; key: string }>;
}

/** Parses a talosconfig; ca/crt/key come back as decoded PEM text. */
export function parseTalosconfig(text: string, file = 'talosconfig'): ParsedTalosconfig {
  const bad = (message: string, cause?: unknown): CloudlabError =>
    new CloudlabError({
      code: 'TALOSCONFIG_INVALID',
      message: `${file}: ${message}`,
      hint: 'Regenerate it with `cloudlab gen config` or `cloudlab talosconfig`.',
      exitCode: EXIT_INVALID,
      ...(cause ? { cause } : {}),
    });
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw bad('not valid YAML', e);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('not a mapping');
  const d = doc as Record<string, unknown>;
  const contexts: ParsedTalosconfig['contexts'] = {};
  const raw = d.contexts ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('contexts must be a mapping');
  const decode = (v: unknown, path: string): string => {
    if (v === undefined || v === null || v === '') return '';
    if (typeof v !== 'string') throw bad(`${path} must be a base64 string`);
    const pem = Buffer.from(v, 'base64').toString('utf8');
    if (!pem.includes('-----BEGIN ')) throw bad(`${path} is not a base64-encoded PEM block`);
    return pem;
  };
  const list = (v: unknown, path: string): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad(`${path} must be a list of strings`);
    return v as string[];
  };
  for (const [name, c] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof c !== 'object' || c === null) throw bad(`contexts.${name} must be a mapping`);
    const o = c as Record<string, unknown>;
    const endpoints = list(o.endpoints, `contexts.${name}.endpoints`);
    if (typeof o.target === 'string' && o.target) endpoints.push(o.target);
    const entry = {
      endpoints,
      nodes: list(o.nodes, `contexts.${name}.nodes`),
      ca: decode(o.ca, `contexts.${name}.ca`),
      crt: decode(o.crt, `contexts.${name}.crt`),
      key: decode(o.key, `contexts.${name}.key`),
    };
    registerSecret(entry.key);
    contexts[name] = entry;
  }
  const context = typeof d.context === 'string' ? d.context : '';
  if (context && !contexts[context]) throw bad(`context ${JSON.stringify(context)} is not in contexts`);
  return { context, contexts };
}

/**
 * The talosconfig of a planned cluster: context = cluster name, endpoints = the control planes' own addresses
 * (never the VIP: it only exists once etcd runs), nodes = the bootstrap node.
 */
export async function talosconfigForPlan(plan: Plan, bundle: SecretsBundle, opts: { now?: Date } = {}): Promise<string> {
  const endpoints = plan.nodes.filter((n) => n.role === 'controlplane' && n.ip).map((n) => n.ip!);
  const boot = plan.nodes.find((n) => n.name === plan.cluster.bootstrapNode)?.ip;
  return generateTalosconfig(bundle, { context: plan.cluster.name, endpoints, nodes: boot ? [boot] : [], ...(opts.now ? { now: opts.now } : {}) });
}
