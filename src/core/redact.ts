// Owns secret redaction: every secret value cloudlab handles is registered here, and every line the CLI
// prints (logs, errors, --json) passes through redact() so a secret never reaches a terminal or a log file.

const secrets = new Set<string>();
const MIN_LEN = 6;

/** Registers a secret value so it is masked in all output. Short values are ignored (they would mask noise). */
export function registerSecret(value: string | undefined | null): void {
  if (!value || value.length < MIN_LEN) return;
  secrets.add(value);
}

/** Masks every registered secret, and well-known secret shapes, in text. */
export function redact(text: string): string {
  let out = text;
  // Longest first so a secret that contains another is fully masked.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(s)) out = out.split(s).join('***');
  }
  // Proxmox API token header value: PVEAPIToken=user@realm!id=SECRET
  out = out.replace(/(PVEAPIToken=[^=\s]+=)[^\s"',]+/g, '$1***');
  // age identities
  out = out.replace(/AGE-SECRET-KEY-1[0-9A-Z]+/g, 'AGE-SECRET-KEY-1***');
  // PEM private keys
  out = out.replace(/-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g, '-----BEGIN $1PRIVATE KEY----- *** -----END $1PRIVATE KEY-----');
  return out;
}

/** Deep-redacts a JSON-able value: strings are redacted, and values under secret-looking keys are masked. */
export function redactValue(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    if (/(secret|password|token|private|^key$|apikey|authkey)/i.test(key) && !/(id|_id|Id|file|File|env|Env|from|From)$/.test(key) && value.length > 0) return '***';
    return redact(value);
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, key));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactValue(v, k);
    return out;
  }
  return value;
}

/** For tests: forget registered secrets. */
export function clearSecrets(): void {
  secrets.clear();
}
