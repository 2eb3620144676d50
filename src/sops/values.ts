// Owns the canonical SOPS byte forms of typed values (Go strconv formatting: Itoa, FormatFloat 'f' -1,
// Titlecase bools, RFC3339Nano times) and yaml.v3's resolution of plain YAML scalars to those types.
import type { SopsScalar } from './cipher.js';

export const str = (s: string): SopsScalar => ({ type: 'str', bytes: Buffer.from(s, 'utf8') });

/** Go strconv.FormatFloat(f, 'f', -1, 64): shortest round-trip digits, never an exponent. */
export function goFormatFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (Object.is(f, -0)) return '-0';
  const s = String(f);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, intPart, frac = '', expS] = m as unknown as [string, string, string, string | undefined, string];
  const exp = Number(expS);
  const digits = intPart + frac;
  const point = intPart.length + exp;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Go strconv.ParseBool. */
export function goParseBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go strconv.ParseInt(s, 0, 64) (sign, 0x/0o/0b/leading-0 octal prefixes, underscores) → bigint, or undefined. */
export function goParseInt(s: string): bigint | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(s);
  if (!m) return undefined;
  const [, sign, body] = m as unknown as [string, string, string];
  if (body.includes('_')) {
    // Go's underscoreOK: underscores only between digits or right after a base prefix.
    if (/__|_$/.test(body) || /^_/.test(body)) return undefined;
    if (/^[1-9]/.test(body) === false && !/^0[xXoObB_]/.test(body)) return undefined;
  }
  let clean = body.replace(/_/g, '');
  if (/^0[0-7]+$/.test(clean)) clean = '0o' + clean.slice(1);
  let v: bigint;
  try {
    v = BigInt(clean);
  } catch {
    return undefined;
  }
  if (sign === '-') v = -v;
  if (v < INT64_MIN || v > INT64_MAX) return undefined;
  return v;
}

const YAML_FLOAT_RE = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const TIMESTAMP_RE = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[Tt]|[ \t]+)(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?[ \t]*(Z|[+-]\d{1,2}(?::\d{2})?)?)?$/;

/** What yaml.v3 makes of a plain (unquoted, untagged) scalar: null, or a typed SOPS value. */
export function resolvePlainYaml(s: string): SopsScalar | null {
  if (s === '' || s === '~' || s === 'null' || s === 'Null' || s === 'NULL') return null;
  if (['true', 'True', 'TRUE'].includes(s)) return { type: 'bool', bytes: Buffer.from('True') };
  if (['false', 'False', 'FALSE'].includes(s)) return { type: 'bool', bytes: Buffer.from('False') };
  if (['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'].includes(s)) return { type: 'float', bytes: Buffer.from('+Inf') };
  if (['-.inf', '-.Inf', '-.INF'].includes(s)) return { type: 'float', bytes: Buffer.from('-Inf') };
  if (['.nan', '.NaN', '.NAN'].includes(s)) return { type: 'float', bytes: Buffer.from('NaN') };
  if (/^[-+0-9.]/.test(s)) {
    const i = goParseInt(s);
    if (i !== undefined) return { type: 'int', bytes: Buffer.from(i.toString()) };
    if (YAML_FLOAT_RE.test(s)) return { type: 'float', bytes: Buffer.from(goFormatFloat(Number(s))) };
    const t = timestampToRfc3339Nano(s);
    if (t !== undefined) return { type: 'time', bytes: Buffer.from(t) };
  }
  return str(s);
}

/** A yaml.v3 timestamp scalar as Go's time.MarshalText (RFC3339Nano) would print it, or undefined. */
export function timestampToRfc3339Nano(s: string): string | undefined {
  const m = TIMESTAMP_RE.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se, frac, zone] = m;
  const p2 = (x: string | undefined): string => (x ?? '0').padStart(2, '0');
  let out = `${y}-${p2(mo)}-${p2(d)}T${p2(h)}:${p2(mi)}:${p2(se)}`;
  const f = (frac ?? '').replace(/0+$/, '');
  if (f) out += '.' + f;
  if (!zone || zone === 'Z') return out + 'Z';
  const zm = /^([+-])(\d{1,2})(?::(\d{2}))?$/.exec(zone);
  if (!zm) return undefined;
  const off = `${zm[1]}${p2(zm[2])}:${zm[3] ?? '00'}`;
  return out + (off === '+00:00' || off === '-00:00' ? 'Z' : off);
}

/** True when yaml.v3 (or a YAML 1.1 reader) would read this text, written plain, as something other than this string. */
export function needsYamlQuoting(s: string, opts: { yaml11?: boolean } = { yaml11: true }): boolean {
  // YAML 1.1 readers (PyYAML, older tools) take these as booleans: quoting values is harmless for yaml.v3.
  if (opts.yaml11 && /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/.test(s)) return true;
  const r = resolvePlainYaml(s);
  return r === null || r.type !== 'str';
}

/** The canonical MAC/plaintext bytes for a JSON number literal (sops 3.10+: int64 when it fits, else float64). */
export function jsonNumber(raw: string): SopsScalar {
  if (/^-?(0|[1-9]\d*)$/.test(raw)) {
    const v = BigInt(raw);
    if (v >= INT64_MIN && v <= INT64_MAX) return { type: 'int', bytes: Buffer.from(v.toString()) };
  }
  return { type: 'float', bytes: Buffer.from(goFormatFloat(Number(raw))) };
}
