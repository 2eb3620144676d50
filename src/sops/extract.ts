// Owns `sops decrypt --extract '["key"][0]'`: picks one value or subtree out of a decrypted document, printed
// raw for scalars and in the document's own format for maps and lists.
import { parseDocument, isCollection, isScalar, stringify } from 'yaml';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import type { SopsFormat } from './stores/types.js';

/** Parses sops's extract syntax: `["a"]["b"][0]`. */
export function parseExtractPath(expr: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /\[("(?:[^"\\]|\\.)*"|'[^']*'|\d+)\]/y;
  let pos = 0;
  while (pos < expr.length) {
    re.lastIndex = pos;
    const m = re.exec(expr);
    if (!m) throw new CloudlabError({ code: 'SOPS_BAD_EXTRACT', exitCode: EXIT_INVALID, message: `--extract ${JSON.stringify(expr)} is not a path like ["key"]["nested"][0]`, hint: `quote it for the shell: --extract '["proxmox"]["tokenSecret"]'` });
    const tok = m[1] as string;
    out.push(tok.startsWith('"') ? (JSON.parse(tok) as string) : tok.startsWith("'") ? tok.slice(1, -1) : Number(tok));
    pos = re.lastIndex;
  }
  if (!out.length) throw new CloudlabError({ code: 'SOPS_BAD_EXTRACT', exitCode: EXIT_INVALID, message: '--extract needs at least one [key]', hint: `e.g. --extract '["data"]'` });
  return out;
}

/** The value at `path` in decrypted plaintext: scalars as their text, collections re-serialized. */
export function extractValue(plaintext: Buffer, format: SopsFormat, expr: string): Buffer {
  const path = parseExtractPath(expr);
  if (format === 'binary') {
    if (path.length === 1 && path[0] === 'data') return plaintext;
    throw new CloudlabError({ code: 'SOPS_BAD_EXTRACT', exitCode: EXIT_INVALID, message: 'a binary file has only ["data"]', hint: `use --extract '["data"]'` });
  }
  const text = plaintext.toString('utf8');
  // JSON and dotenv are YAML-compatible enough once dotenv lines become `KEY: "VALUE"` pairs.
  const yamlText = format === 'dotenv' ? text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => `${JSON.stringify(l.slice(0, l.indexOf('=')))}: ${JSON.stringify(l.slice(l.indexOf('=') + 1))}`).join('\n') : text;
  const doc = parseDocument(yamlText, { schema: 'core', intAsBigInt: true });
  const node = doc.getIn(path, true);
  if (node === undefined) throw new CloudlabError({ code: 'SOPS_EXTRACT_NOT_FOUND', exitCode: EXIT_INVALID, message: `${expr} is not in the file`, hint: 'check the key names (they are case-sensitive)' });
  if (isScalar(node)) return Buffer.from(node.value === null ? '' : String(node.value), 'utf8');
  if (isCollection(node)) return Buffer.from(format === 'json' ? JSON.stringify(node.toJSON(), (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v), '\t') + '\n' : stringify(node, { indent: 4, lineWidth: 0 }), 'utf8');
  return Buffer.from(String(node), 'utf8');
}
