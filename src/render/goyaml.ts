// Owns YAML text as Go's go.yaml.in/yaml (v3/v4) encoder writes it with 4-space indent: the exact layout talosctl
// configs and Image Factory schematic IDs depend on (nested blocks under a sequence item indent from its dash).
import YAML from 'yaml';

type Value = unknown;

function isPlainObject(v: Value): v is Record<string, Value> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isEmptyBlock(v: Value): boolean {
  return (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0);
}

const OLD_BOOL = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON', 'n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF']);
const BASE60 = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
/** Strings that are plain scalars in any YAML: letters first, no indicators or spaces. */
const FAST_PLAIN = /^[A-Za-z_/][A-Za-z0-9_./+=@-]*$/;
const CORE_KEYWORD = /^(?:true|false|null|True|False|Null|TRUE|FALSE|NULL|\.inf|\.nan)$/;

/** A scalar on one line, quoted the way Go quotes ambiguous strings (double quotes). */
function scalar(v: Value): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? '.nan' : v > 0 ? '.inf' : '-.inf';
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return '[]';
  if (isPlainObject(v)) return '{}';
  const s = String(v);
  // go-yaml double-quotes YAML 1.1 booleans and base-60 numbers that YAML 1.2 would leave plain.
  if (OLD_BOOL.has(s) || BASE60.test(s)) return JSON.stringify(s);
  if (FAST_PLAIN.test(s) && !CORE_KEYWORD.test(s)) return s;
  return YAML.stringify(s, { lineWidth: 0, defaultStringType: 'PLAIN', defaultKeyType: 'PLAIN' }).replace(/\n$/, '');
}

function key(k: string): string {
  return scalar(k);
}

/** A multi-line string as a literal block: `|`, `|-` (no final newline) or `|+` (extra final newlines). */
function literal(s: string, indent: number): string {
  const chomp = s.endsWith('\n') ? (s.endsWith('\n\n') ? '+' : '') : '-';
  const body = s.endsWith('\n') ? s.slice(0, -1) : s;
  const pad = ' '.repeat(indent);
  const lead = /^[ \t]/.test(body) ? '4' : '';
  return `|${lead}${chomp}\n` + body.split('\n').map((l) => (l.length ? pad + l : '')).join('\n') + '\n';
}

function value(v: Value, childIndent: number): string {
  if (typeof v === 'string' && v.includes('\n')) return ' ' + literal(v, childIndent);
  if (isEmptyBlock(v) || !(Array.isArray(v) || isPlainObject(v))) return ' ' + scalar(v) + '\n';
  if (Array.isArray(v)) return '\n' + seq(v, childIndent);
  return '\n' + map(v as Record<string, Value>, childIndent, childIndent);
}

/** Mapping: keys at `keyIndent` (the first key may be inlined after a dash), nested blocks at `base + 4`. */
function map(obj: Record<string, Value>, keyIndent: number, base: number, firstInline = false): string {
  let out = '';
  let first = true;
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    const pad = first && firstInline ? '' : ' '.repeat(keyIndent);
    out += `${pad}${key(k)}:${value(v, base + 4)}`;
    first = false;
  }
  return out;
}

function seq(arr: Value[], indent: number): string {
  let out = '';
  const pad = ' '.repeat(indent);
  for (const item of arr) {
    if (isPlainObject(item) && Object.keys(item).length) {
      out += `${pad}- ${map(item, indent + 2, indent, true)}`;
    } else if (Array.isArray(item) && item.length) {
      out += `${pad}- ${seq(item, indent + 2).trimStart()}`;
    } else if (typeof item === 'string' && item.includes('\n')) {
      // Go yaml.v3 indents a literal list item two past its dash (talos stability golden v1.14 base-worker acceptedCAs).
      out += `${pad}- ${literal(item, indent + 2)}`;
    } else {
      out += `${pad}- ${scalar(item)}\n`;
    }
  }
  return out;
}

/** Encodes one document (a mapping) like Go's yaml encoder with indent 4. Key order is insertion order. */
export function goYaml(doc: Value): string {
  if (isPlainObject(doc)) return Object.keys(doc).length ? map(doc, 0, 0) : '{}\n';
  if (Array.isArray(doc)) return doc.length ? seq(doc, 0) : '[]\n';
  return scalar(doc) + '\n';
}

/** Encodes several documents separated by `---` as Talos' config container does. */
export function goYamlDocuments(docs: Value[]): string {
  return docs.map((d) => goYaml(d)).join('---\n');
}
