// Owns the sops subcommands users script around a file, with sops's semantics (getsops/sops cmd/sops/main.go and
// cmd/sops/subcommand/{filestatus,exec}): `filestatus` ({"encrypted": bool}: metadata with a version and a MAC),
// `set FILE INDEX JSON` / `unset FILE INDEX` (in place, same recipients, data key kept), and the plaintext sources
// of `exec-env` (top-level string values as environment) and `exec-file` (the decrypted document).
import { readFileSync } from 'node:fs';
import { parseDocument, isCollection, isMap, isScalar, YAMLMap, YAMLSeq } from 'yaml';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { writeSecretFile } from '../core/files.js';
import { registerSecret } from '../core/redact.js';
import { convertPlain, decryptBytes, encryptBytes, parseEncrypted, type SopsFormat } from './codec.js';
import { metadataOf } from './document-crypt.js';
import { parseExtractPath } from './extract.js';
import { compileRules } from './rules.js';
import { ageIdentityLookup } from './keys.js';

/** sops filestatus: encrypted when the file parses with sops metadata carrying a version and a MAC. */
export function fileStatus(path: string, format: SopsFormat): { encrypted: boolean } {
  const raw = readFileSync(path);
  try {
    const meta = metadataOf(parseEncrypted(format, raw, path), path);
    return { encrypted: Boolean(meta.version && meta.mac) };
  } catch (e) {
    if (e instanceof CloudlabError && (e.code === 'SOPS_NOT_ENCRYPTED' || e.code === 'SOPS_BAD_METADATA')) return { encrypted: false };
    throw e;
  }
}

/**
 * Stronger than filestatus, for the pre-commit hook: the paths of values the file's own crypt rule says must be
 * encrypted but that are stored in the clear (a value added by hand after encryption). Throws when there is no
 * sops metadata at all.
 */
export function plaintextValues(path: string, format: SopsFormat, raw: Buffer = readFileSync(path)): string[] {
  const doc = parseEncrypted(format, raw, path);
  const meta = metadataOf(doc, path);
  const rule = compileRules(meta.rules, path);
  return doc
    .leaves()
    .filter((l) => !l.comment && rule.test(l.path) && !(l.value.type === 'str' && l.value.bytes.toString('utf8').startsWith('ENC[AES256_GCM,')))
    .map((l) => l.path.join('.'));
}

interface Opened {
  format: SopsFormat;
  raw: string;
  recipients: string[];
  rules: ReturnType<typeof metadataOf>['rules'];
  plaintext: Buffer;
}

async function open(path: string, format: SopsFormat, env: NodeJS.ProcessEnv, ignoreMac: boolean): Promise<Opened> {
  const raw = readFileSync(path, 'utf8');
  const meta = metadataOf(parseEncrypted(format, raw, path), path);
  const identities = ageIdentityLookup(env);
  const plaintext = await decryptBytes(raw, { format, identities, file: path, ...(ignoreMac ? { ignoreMac: true } : {}) });
  return { format, raw, recipients: meta.age.map((a) => a.recipient), rules: meta.rules, plaintext };
}

/** The plaintext as a YAML document (JSON and dotenv converted), for edits by index. */
function asDocument(o: Opened, path: string): ReturnType<typeof parseDocument> {
  if (o.format === 'binary') throw new CloudlabError({ code: 'SOPS_SET_BINARY', exitCode: EXIT_INVALID, message: `${path} is a binary-store file: it has no keys to set`, hint: 'use `cloudlab sops edit` or re-encrypt the file' });
  const yamlText = o.format === 'yaml' ? o.plaintext : convertPlain(o.plaintext, o.format, 'yaml', path);
  return parseDocument(yamlText.toString('utf8'));
}

async function writeBack(path: string, o: Opened, doc: ReturnType<typeof parseDocument>, env: NodeJS.ProcessEnv): Promise<void> {
  let out: Buffer = Buffer.from(doc.toString({ indent: 4, lineWidth: 0 }), 'utf8');
  if (o.format !== 'yaml') out = convertPlain(out, 'yaml', o.format, path);
  const enc = await encryptBytes(out, { format: o.format, recipients: o.recipients, rules: o.rules, previous: o.raw, identities: ageIdentityLookup(env), file: path });
  writeSecretFile(path, enc);
}

/**
 * sops set: puts a JSON value at an index like `["a"]["b"][0]`, creating maps on the way; lists are indexed only
 * within their length (or one past it, to append). Returns whether the file changed.
 */
export async function setValue(path: string, format: SopsFormat, index: string, json: string, env: NodeJS.ProcessEnv, opts: { idempotent?: boolean; ignoreMac?: boolean } = {}): Promise<boolean> {
  const keys = parseExtractPath(index);
  let value: unknown;
  try {
    value = JSON.parse(json) as unknown;
  } catch (e) {
    throw new CloudlabError({ code: 'SOPS_SET_VALUE', exitCode: EXIT_INVALID, message: `the value must be JSON (a string is written with quotes: '"text"'): ${(e as Error).message}`, hint: `e.g. cloudlab sops set ${path} '["key"]' '"value"'` });
  }
  if (typeof value === 'string') registerSecret(value);
  const o = await open(path, format, env, Boolean(opts.ignoreMac));
  const doc = asDocument(o, path);
  if (doc.contents == null) doc.contents = new YAMLMap() as never;
  const existing = doc.getIn(keys);
  if (opts.idempotent && JSON.stringify(existing) === JSON.stringify(value)) return false;
  // Walk to the parent, refusing to descend through a scalar.
  let node: unknown = doc.contents;
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i]!;
    const next = isMap(node) ? node.get(k, true) : node instanceof YAMLSeq && typeof k === 'number' ? node.get(k, true) : undefined;
    if (next !== undefined && !isCollection(next)) throw new CloudlabError({ code: 'SOPS_SET_PATH', exitCode: EXIT_INVALID, message: `${index}: ${JSON.stringify(keys.slice(0, i + 1))} is a value, not a map or list`, hint: 'set that value itself, or choose another index' });
    if (next === undefined) {
      if (!isMap(node)) throw new CloudlabError({ code: 'SOPS_SET_PATH', exitCode: EXIT_INVALID, message: `${index}: index ${String(k)} is outside the list`, hint: 'a list grows one element at a time, at its end' });
      node.set(k, new YAMLMap());
    }
    node = isMap(node) ? node.get(k, true) : (node as YAMLSeq).get(k as number, true);
  }
  const last = keys[keys.length - 1]!;
  if (node instanceof YAMLSeq) {
    if (typeof last !== 'number' || last > node.items.length) throw new CloudlabError({ code: 'SOPS_SET_PATH', exitCode: EXIT_INVALID, message: `${index}: index ${String(last)} is outside the list of ${node.items.length}`, hint: 'a list grows one element at a time, at its end' });
    if (last === node.items.length) node.add(doc.createNode(value));
    else node.set(last, doc.createNode(value));
  } else if (isMap(node)) {
    const prev = node.get(last, true);
    if (isScalar(prev) && !isCollection(value) && typeof value !== 'object') prev.value = value;
    else node.set(last, doc.createNode(value));
  } else {
    throw new CloudlabError({ code: 'SOPS_SET_PATH', exitCode: EXIT_INVALID, message: `${index}: the parent is a value`, hint: 'choose another index' });
  }
  await writeBack(path, o, doc, env);
  return true;
}

/** sops unset: removes the index; a missing index is an error unless `idempotent`. Returns whether it changed. */
export async function unsetValue(path: string, format: SopsFormat, index: string, env: NodeJS.ProcessEnv, opts: { idempotent?: boolean; ignoreMac?: boolean } = {}): Promise<boolean> {
  const keys = parseExtractPath(index);
  const o = await open(path, format, env, Boolean(opts.ignoreMac));
  const doc = asDocument(o, path);
  if (!doc.hasIn(keys)) {
    if (opts.idempotent) return false;
    throw new CloudlabError({ code: 'SOPS_UNSET_MISSING', exitCode: EXIT_INVALID, message: `${path}: ${index} is not in the file`, hint: 'check the index (keys are case-sensitive), or pass --idempotent' });
  }
  doc.deleteIn(keys);
  await writeBack(path, o, doc, env);
  return true;
}

/** exec-env's environment: the top-level entries, which must be strings under keys without '='. */
export async function decryptedEnv(path: string, format: SopsFormat, env: NodeJS.ProcessEnv, opts: { ignoreMac?: boolean } = {}): Promise<Record<string, string>> {
  const o = await open(path, format, env, Boolean(opts.ignoreMac));
  if (format === 'binary') throw new CloudlabError({ code: 'SOPS_EXEC_ENV', exitCode: EXIT_INVALID, message: `${path} is a binary-store file: it has no keys for an environment`, hint: 'use `cloudlab sops exec-file`' });
  const doc = asDocument(o, path);
  const out: Record<string, string> = {};
  if (doc.contents == null) return out;
  if (!isMap(doc.contents)) throw new CloudlabError({ code: 'SOPS_EXEC_ENV', exitCode: EXIT_INVALID, message: `${path}: the document is not a map`, hint: 'exec-env needs top-level KEY: value pairs' });
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? pair.key.value : pair.key;
    if (typeof key !== 'string') throw new CloudlabError({ code: 'SOPS_EXEC_ENV', exitCode: EXIT_INVALID, message: `${path}: cannot use non-string keys in environment`, hint: 'quote the key' });
    if (key.includes('=')) throw new CloudlabError({ code: 'SOPS_EXEC_ENV', exitCode: EXIT_INVALID, message: `${path}: cannot use keys with '=' in environment: ${key}`, hint: 'rename the key' });
    if (!isScalar(pair.value) || typeof pair.value.value !== 'string') throw new CloudlabError({ code: 'SOPS_EXEC_ENV', exitCode: EXIT_INVALID, message: `${path}: cannot use a non-string value in environment (${key})`, hint: 'quote the value in the file, or use exec-file for nested documents' });
    out[key] = pair.value.value;
  }
  return out;
}

/** exec-file's content: the decrypted document, in `outputFormat` when given. */
export async function decryptedDocument(path: string, format: SopsFormat, env: NodeJS.ProcessEnv, opts: { outputFormat?: SopsFormat; ignoreMac?: boolean } = {}): Promise<Buffer> {
  const raw = readFileSync(path);
  return decryptBytes(raw, { format, identities: ageIdentityLookup(env), file: path, ...(opts.ignoreMac ? { ignoreMac: true } : {}), ...(opts.outputFormat ? { outputFormat: opts.outputFormat } : {}) });
}
