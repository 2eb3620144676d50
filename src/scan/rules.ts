// Owns cloudlab's own secret rules: the secrets a cloudlab cluster directory holds (age keys, Talos bundle values
// and tokens, base64 PEM keys in kubeconfig/talosconfig, Proxmox API token secrets). Common cloud tokens come from
// the maintained secretlint preset (see secretlint.ts); these formats are cloudlab's and no preset knows them.

/** One place in a text that looks like a plaintext secret. Never carries the secret itself. */
export interface RuleHit {
  rule: string;
  /** 0-based offset of the secret value in the text. */
  index: number;
  message: string;
}

export interface OwnRule {
  id: string;
  description: string;
  find(text: string): RuleHit[];
}

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
/** age's Bech32 alphabet (upper case, as age-keygen prints a secret key). */
const BECH32 = '[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]';

/** Hits of a regex whose first capture group (or whole match) is the secret. */
function regexRule(id: string, description: string, re: RegExp, message: (m: RegExpExecArray) => string, keep?: (m: RegExpExecArray) => boolean): OwnRule {
  return {
    id,
    description,
    find(text) {
      const hits: RuleHit[] = [];
      const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
      for (let m = g.exec(text); m; m = g.exec(text)) {
        if (keep && !keep(m)) continue;
        const secret = m[1] ?? m[0];
        hits.push({ rule: id, index: m.index + m[0].indexOf(secret), message: message(m) });
      }
      return hits;
    },
  };
}

/** True when a base64 run decodes to the start of a PEM private key. */
function isEncodedPrivateKey(b64: string): boolean {
  const head = Buffer.from(b64.slice(0, 96), 'base64').toString('latin1');
  return /^-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/.test(head);
}

export const OWN_RULES: OwnRule[] = [
  regexRule('cloudlab/age-secret-key', 'an age secret key (AGE-SECRET-KEY-1…)', new RegExp(`(AGE-SECRET-KEY-1${BECH32}{58})`), () => 'age secret key: anyone with it decrypts every SOPS file of the cluster'),
  regexRule('cloudlab/pem-private-key', 'a PEM private key block of any algorithm (Talos uses ED25519)', /(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)/, (m) => `PEM private key (${m[1]!.replace(/^-+BEGIN |-+$/g, '')})`),
  regexRule(
    'cloudlab/kubeconfig-client-key',
    'a kubeconfig client-key-data value (base64 PEM private key)',
    /client-key-data["']?\s*:\s*["']?([A-Za-z0-9+/]{40,}={0,2})/,
    () => 'kubeconfig client key: cluster-admin access to the Kubernetes API',
    (m) => isEncodedPrivateKey(m[1]!),
  ),
  regexRule(
    'cloudlab/base64-private-key',
    'a base64-encoded PEM private key (Talos secrets bundle certs.*.key, talosconfig key)',
    /(?:^|[\s"'{,])(?!client-key-data)([\w-]+)["']?\s*:\s*["']?(LS0tLS1CRUdJTi[A-Za-z0-9+/]{20,}={0,2})/m,
    (m) => `base64 PEM private key in "${m[1]}" (a Talos bundle or talosconfig key)`,
    (m) => isEncodedPrivateKey(m[2]!),
  ),
  regexRule(
    'cloudlab/talos-token',
    'a Talos machine or bootstrap token (6.16 lower-case alphanumerics) after a token key',
    /(?:token|bootstraptoken|bootstrapToken)["']?\s*:\s*["']?([a-z0-9]{6}\.[a-z0-9]{16})\b/,
    () => 'Talos token: joins machines to the cluster',
  ),
  regexRule(
    'cloudlab/talos-encryption-secret',
    'a Talos secretbox/aescbc encryption secret or cluster secret (32 random bytes, base64)',
    /(secretboxencryptionsecret|aescbcencryptionsecret|secretboxEncryptionSecret|aescbcEncryptionSecret|\bsecret)["']?\s*:\s*["']?([A-Za-z0-9+/]{43}=)/,
    (m) => `Talos ${m[1]!.toLowerCase() === 'secret' ? 'cluster secret' : m[1]!.toLowerCase()}: base64 of 32 random bytes`,
  ),
  regexRule(
    'cloudlab/proxmox-token-secret',
    'a Proxmox API token secret: the UUID after PVEAPIToken=USER@REALM!TOKENID= (or USER@REALM!TOKENID=)',
    new RegExp(`(?:PVEAPIToken=)?[\\w.-]+@[\\w.-]+![\\w.-]+[=:](${UUID})`),
    () => 'Proxmox API token secret',
  ),
  regexRule(
    'cloudlab/proxmox-token-secret',
    'a Proxmox API token secret in a spec, secrets file or environment assignment',
    new RegExp(`(?:tokenSecret|token_secret|TOKEN_SECRET|api_token_secret)["']?\\s*[:=]\\s*["']?(${UUID})`),
    () => 'Proxmox API token secret',
  ),
];

/** Descriptions of cloudlab's own rules, for `cloudlab scan --list-rules`. */
export function ownRuleList(): Array<{ id: string; description: string }> {
  return OWN_RULES.map((r) => ({ id: r.id, description: r.description }));
}
