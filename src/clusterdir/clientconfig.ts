// Owns merging decrypted client configs into the user's files: a kubeconfig into ~/.kube/config and a
// talosconfig into ~/.talos/config, contexts named after the cluster, every other context kept.
import { parseDocument, stringify } from 'yaml';
import { invalidInput } from '../core/errors.js';

type Named = { name: string; [k: string]: unknown };

/** Parses a client config; `file` (when it is one on disk) is named, with the line, in errors. */
function asObject(text: string | undefined, what: string, file?: string): Record<string, unknown> {
  if (!text || !text.trim()) return {};
  const doc = parseDocument(text);
  const label = file ? `${what} ${file}` : what;
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line;
    const msg = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '') || 'YAML syntax error';
    const problems = file ? [{ file, ...(line ? { line } : {}), message: msg }] : [];
    throw invalidInput('CONFIG_INVALID', `${label}${file && line ? `:${line}` : ''} is not valid YAML: ${msg}`, problems, `fix or move ${label} aside`);
  }
  const js = doc.toJS() as unknown;
  if (js == null) return {};
  if (typeof js !== 'object' || Array.isArray(js)) throw invalidInput('CONFIG_INVALID', `${label} is not a mapping`, file ? [{ file, line: 1, message: 'expected a mapping at the top level' }] : [], `fix or move ${label} aside`);
  return js as Record<string, unknown>;
}

function named(list: unknown): Named[] {
  return Array.isArray(list) ? (list.filter((x) => x && typeof x === 'object' && typeof (x as Named).name === 'string') as Named[]) : [];
}

function upsert(list: Named[], item: Named): Named[] {
  const i = list.findIndex((x) => x.name === item.name);
  if (i < 0) return [...list, item];
  const out = [...list];
  out[i] = item;
  return out;
}

/**
 * Merges a kubeconfig into an existing one: the incoming current context becomes a context named `name`
 * (its cluster named `name`, its user `admin@name`), replacing only entries of those names.
 */
export function mergeKubeconfig(existing: string | undefined, incoming: string, name: string, opts: { setCurrent?: boolean; existingFile?: string } = {}): string {
  const base = asObject(existing, 'the existing kubeconfig', opts.existingFile);
  const inc = asObject(incoming, 'the cluster kubeconfig');
  const ctxs = named(inc.contexts);
  const current = ctxs.find((c) => c.name === inc['current-context']) ?? ctxs[0];
  if (!current) throw invalidInput('CONFIG_INVALID', 'the cluster kubeconfig has no context', [], 'regenerate it with `cloudlab apply`');
  const cctx = (current.context ?? {}) as Record<string, unknown>;
  const cluster = named(inc.clusters).find((c) => c.name === cctx.cluster);
  const user = named(inc.users).find((u) => u.name === cctx.user);
  if (!cluster || !user) throw invalidInput('CONFIG_INVALID', `the cluster kubeconfig's context ${current.name} names a missing cluster or user`, [], 'regenerate it with `cloudlab apply`');
  const userName = `admin@${name}`;
  const out: Record<string, unknown> = { apiVersion: 'v1', kind: 'Config', preferences: {}, ...base };
  out.clusters = upsert(named(base.clusters), { ...cluster, name });
  out.users = upsert(named(base.users), { ...user, name: userName });
  out.contexts = upsert(named(base.contexts), { name, context: { ...cctx, cluster: name, user: userName } });
  if (opts.setCurrent !== false || !out['current-context']) out['current-context'] = name;
  return stringify(out, { lineWidth: 0 });
}

/** Merges a talosconfig: the incoming current context is stored as context `name`; others are kept. */
export function mergeTalosconfig(existing: string | undefined, incoming: string, name: string, opts: { setCurrent?: boolean; existingFile?: string } = {}): string {
  const base = asObject(existing, 'the existing talosconfig', opts.existingFile);
  const inc = asObject(incoming, 'the cluster talosconfig');
  const incCtxs = (inc.contexts ?? {}) as Record<string, unknown>;
  const key = typeof inc.context === 'string' && incCtxs[inc.context] ? inc.context : Object.keys(incCtxs)[0];
  if (!key) throw invalidInput('CONFIG_INVALID', 'the cluster talosconfig has no context', [], 'regenerate it with `cloudlab apply`');
  const contexts = { ...((base.contexts ?? {}) as Record<string, unknown>), [name]: incCtxs[key] };
  const out: Record<string, unknown> = { ...base, context: opts.setCurrent === false && typeof base.context === 'string' ? base.context : name, contexts };
  return stringify(out, { lineWidth: 0 });
}

/** The cluster name a client config was made for (kubeconfig cluster name / talosconfig context). */
export function configClusterName(text: string, kind: 'kubeconfig' | 'talosconfig'): string | undefined {
  const o = asObject(text, kind);
  if (kind === 'talosconfig') return typeof o.context === 'string' ? o.context : Object.keys((o.contexts ?? {}) as object)[0];
  const ctxs = named(o.contexts);
  const cur = ctxs.find((c) => c.name === o['current-context']) ?? ctxs[0];
  const cl = (cur?.context as Record<string, unknown> | undefined)?.cluster;
  return typeof cl === 'string' ? cl : undefined;
}

/** The Secret Flux's kustomize-controller reads age keys from (`sops-age` in flux-system, key age.agekey). */
export function fluxSopsSecret(keyFileContent: string, opts: { name?: string; namespace?: string } = {}): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: opts.name ?? 'sops-age', namespace: opts.namespace ?? 'flux-system' },
    type: 'Opaque',
    data: { 'age.agekey': Buffer.from(keyFileContent, 'utf8').toString('base64') },
  }, { lineWidth: 0 });
}
