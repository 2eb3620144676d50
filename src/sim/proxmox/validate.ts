// Owns request validation in the simulator, with the messages Proxmox's JSONSchema produces: unknown and
// missing parameters, type checks (form booleans only 0/1), ranges, enums, patterns, named formats and the
// sub-keys of property strings. Returns a per-parameter error map like a real 400.
import { isIPv4, isIPv6 } from 'node:net';
import { ALL_PRIVILEGES } from './access.js';
import type { Params, PropFormat, Rule } from './schema.js';

export type RawValue = string | number | boolean | string[];
export type Value = string | number | boolean;

export interface Validated {
  errors: Record<string, string>;
  values: Record<string, Value>;
}

const CONTENT_TYPES = ['iso', 'images', 'import', 'vztmpl', 'rootdir', 'backup', 'snippets'];

function cidrOk(v: string, family: 4 | 6): boolean {
  const [ip, len, ...rest] = v.split('/');
  if (rest.length || !ip || len === undefined || !/^\d+$/.test(len)) return false;
  const n = Number(len);
  return family === 4 ? isIPv4(ip) && n <= 32 : isIPv6(ip) && n <= 128;
}

/** Checks a named format; returns an error detail or null. */
export function checkFormat(format: string, v: string): string | null {
  switch (format) {
    case 'pve-node':
      return /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(v) ? null : 'value does not look like a valid node name';
    case 'pve-storage-id':
      return /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(v) ? null : `storage ID '${v}' contains illegal characters`;
    case 'dns-name':
      return /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/.test(v) ? null : 'value does not look like a valid DNS name';
    case 'pve-tag-list': {
      const tags = v.split(/[;, ]/).filter(Boolean);
      if (!tags.length) return 'no tags given';
      const bad = tags.find((t) => !/^[a-z0-9_][a-z0-9_\-+.]*$/i.test(t));
      return bad === undefined ? null : `invalid tag '${bad}'`;
    }
    case 'pve-volume-id-or-qm-path':
      if (v === 'none' || v === 'cdrom' || v.startsWith('/')) return null;
      return /^[a-z][a-z0-9\-_.]*[a-z0-9]:.+$/i.test(v) ? null : `unable to parse volume ID '${v}'`;
    case 'pve-volume-id-or-absolute-path':
    case 'pve-volume-id':
      if (v.startsWith('/')) return format === 'pve-volume-id' ? `unable to parse volume ID '${v}'` : null;
      return /^[a-z][a-z0-9\-_.]*[a-z0-9]:.+$/i.test(v) ? null : `unable to parse volume ID '${v}'`;
    case 'ipv4':
      return isIPv4(v) ? null : 'value does not look like a valid IPv4 address';
    case 'ipv6':
      return isIPv6(v) ? null : 'value does not look like a valid IPv6 address';
    case 'ipv4-cidr-or-dhcp':
      return v === 'dhcp' || cidrOk(v, 4) ? null : 'value does not look like a valid IPv4 network configuration';
    case 'ipv6-cidr-or-dhcp-auto':
      return v === 'dhcp' || v === 'auto' || cidrOk(v, 6) ? null : 'value does not look like a valid IPv6 network configuration';
    case 'address-list': {
      const bad = v.split(/[,; ]+/).filter(Boolean).find((a) => !isIPv4(a) && !isIPv6(a));
      return bad === undefined ? null : `unable to parse address '${bad}'`;
    }
    case 'pve-configid-list': {
      const bad = v.split(/[,; ]+/).filter(Boolean).find((a) => !/^[a-z][a-z_\-0-9]*$/i.test(a));
      return bad === undefined ? null : `invalid configuration ID '${bad}'`;
    }
    case 'pve-userid':
      return /^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+$/.test(v) ? null : 'value does not look like a valid user ID';
    case 'pve-userid-list': {
      const bad = v.split(/[,; ]+/).filter(Boolean).find((u) => !/^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+$/.test(u));
      return bad === undefined ? null : `invalid user ID '${bad}'`;
    }
    case 'pve-tokenid-list': {
      const bad = v.split(/[,; ]+/).filter(Boolean).find((u) => !/^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]+$/.test(u));
      return bad === undefined ? null : `invalid API token ID '${bad}'`;
    }
    case 'pve-roleid':
      return /^[A-Za-z0-9.\-_]+$/.test(v) ? null : 'role name contains illegal characters';
    case 'pve-roleid-list': {
      const bad = v.split(/[,; ]+/).filter(Boolean).find((r) => !/^[A-Za-z0-9.\-_]+$/.test(r));
      return bad === undefined ? null : `role name '${bad}' contains illegal characters`;
    }
    case 'pve-priv-list': {
      const bad = v.split(/[,; ]+/).filter(Boolean).find((p) => !ALL_PRIVILEGES.includes(p));
      return bad === undefined ? null : `invalid privilege '${bad}'`;
    }
    case 'pve-poolid':
      return /^[A-Za-z0-9\-_]+$/.test(v) ? null : 'pool name contains illegal characters';
    case 'pve-storage-content':
      return CONTENT_TYPES.includes(v) ? null : `invalid content type '${v}'`;
    case 'pve-storage-content-list': {
      const bad = v.split(/[,; ]+/).filter(Boolean).find((c) => !CONTENT_TYPES.includes(c));
      return bad === undefined ? null : `invalid content type '${bad}'`;
    }
    default:
      return null;
  }
}

/** Parses PVE booleans inside property strings (more liberal than top-level form booleans). */
function parsePropBool(v: string): boolean | null {
  if (/^(1|on|yes|true)$/i.test(v)) return true;
  if (/^(0|off|no|false)$/i.test(v)) return false;
  return null;
}

function checkScalar(rule: Rule, raw: RawValue, jsonBody: boolean, inProperty: boolean): { err?: string; value?: Value } {
  if (Array.isArray(raw)) raw = raw[raw.length - 1] ?? '';
  switch (rule.t) {
    case 'bool': {
      if (typeof raw === 'boolean' && jsonBody) return { value: raw };
      const s = String(raw);
      if (inProperty) {
        const b = parsePropBool(s);
        return b === null ? { err: `type check ('boolean') failed - got '${s}'` } : { value: b };
      }
      if (s === '1' || s === '0') return { value: s === '1' };
      return { err: `type check ('boolean') failed - got '${s}'` };
    }
    case 'int':
    case 'num': {
      const s = String(raw);
      const ok = rule.t === 'int' ? /^[+-]?\d+$/.test(s) : /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s);
      if (!ok) return { err: `type check ('${rule.t === 'int' ? 'integer' : 'number'}') failed - got '${s}'` };
      const n = Number(s);
      if (rule.min !== undefined && n < rule.min) return { err: `value must have a minimum value of ${rule.min}` };
      if (rule.max !== undefined && n > rule.max) return { err: `value must have a maximum value of ${rule.max}` };
      return { value: n };
    }
    case 'str': {
      const s = String(raw);
      if (rule.maxLength !== undefined && s.length > rule.maxLength) return { err: `value may only be ${rule.maxLength} characters long` };
      if (rule.enum && !rule.enum.includes(s)) return { err: `value '${s}' does not have a value in the enumeration '${rule.enum.join(', ')}'` };
      if (rule.pattern && !rule.pattern.test(s)) return { err: 'value does not match the regex pattern' };
      if (typeof rule.format === 'string') {
        const f = checkFormat(rule.format, s);
        if (f) return { err: `invalid format - ${f}` };
      } else if (rule.format) {
        const p = checkPropertyString(rule.format, s);
        if (p) return { err: p };
      }
      return { value: s };
    }
  }
}

/** Validates a property string against its format; returns the error text (PVE style) or null. */
export function checkPropertyString(fmt: PropFormat, text: string, name = ''): string | null {
  const seen = new Set<string>();
  const subErrors: string[] = [];
  const items = text.split(',');
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (item === '') continue;
    const eq = item.indexOf('=');
    let key: string;
    let value: string;
    if (eq < 0) {
      if (i !== 0 || !fmt.defaultKey) return 'invalid format - value without key, but schema does not define a default key\n';
      key = fmt.defaultKey;
      value = item;
    } else {
      key = item.slice(0, eq);
      value = item.slice(eq + 1);
    }
    let rule = fmt.keys[key] ?? fmt.dynamicKeys?.[key];
    if (typeof rule === 'string') {
      key = rule;
      rule = fmt.keys[rule] as Rule;
    }
    if (!rule) return `invalid format - invalid key in comma-separated list property: ${key}\n`;
    if (seen.has(key)) return `invalid format - duplicate key in comma-separated list property: ${key}\n`;
    seen.add(key);
    const r = checkScalar(rule, value, false, true);
    if (r.err) subErrors.push(`${name ? `${name}.` : ''}${key}: ${r.err}`);
  }
  for (const [k, r] of Object.entries(fmt.keys)) {
    if (typeof r !== 'string' && r.opt === false && !seen.has(k)) subErrors.push(`${name ? `${name}.` : ''}${k}: property is missing and it is not optional`);
  }
  if (subErrors.length) return `invalid format - format error\n${subErrors.join('\n')}\n\n`;
  return null;
}

/** Validates all parameters of one request against the endpoint's rules. */
export function validateParams(rules: Params, params: Record<string, RawValue>, jsonBody: boolean): Validated {
  const errors: Record<string, string> = {};
  const values: Record<string, Value> = {};
  for (const [k, raw] of Object.entries(params)) {
    const rule = rules[k];
    if (!rule) {
      errors[k] = 'property is not defined in schema and the schema does not allow additional properties';
      continue;
    }
    const r = rule.t === 'str' && typeof rule.format === 'object' ? checkScalarNamed(rule, raw, jsonBody, k) : checkScalar(rule, raw, jsonBody, false);
    if (r.err) errors[k] = r.err;
    else if (r.value !== undefined) values[k] = r.value;
  }
  for (const [k, rule] of Object.entries(rules)) {
    if (rule.opt === false && !(k in params)) errors[k] = 'property is missing and it is not optional';
    if (k in params && 'requires' in rule && rule.requires && !(rule.requires in params)) errors[rule.requires] = `missing property - '${k}' requires this property`;
  }
  return { errors, values };
}

function checkScalarNamed(rule: Extract<Rule, { t: 'str' }>, raw: RawValue, _json: boolean, name: string): { err?: string; value?: Value } {
  const s = Array.isArray(raw) ? (raw[raw.length - 1] ?? '') : String(raw);
  if (rule.maxLength !== undefined && s.length > rule.maxLength) return { err: `value may only be ${rule.maxLength} characters long` };
  const p = checkPropertyString(rule.format as PropFormat, s, name);
  return p ? { err: p } : { value: s };
}
