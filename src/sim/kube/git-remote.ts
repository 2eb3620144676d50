// Owns how the simulated Flux source-controller reaches a real git repository, the way go-git does for it
// (fluxcd/pkg git/gogit/clone.go cloneBranch): the smart-HTTP ref discovery (GET <url>/info/refs?service=
// git-upload-pack, with the source Secret's basic-auth or bearer credentials) answered with go-git's error texts
// (go-git v5 plumbing/transport/http/common.go NewErr, remote.go NoMatchingRefSpecError), then a shallow clone of the
// branch by the real git to list what the revision holds. ssh:// URLs go through the real git and ssh with the
// Secret's identity and known_hosts. Hand-written: no npm git client speaks both transports with these error texts.
import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Credentials from a Flux source Secret (flux2 pkg/manifestgen/sourcesecret keys). */
export interface GitAuth {
  username?: string;
  password?: string;
  bearerToken?: string;
  identity?: string;
  knownHosts?: string;
}

/** A failure in the words source-controller puts in its conditions; `reason` is its condition reason. */
export class GitFetchError extends Error {
  constructor(message: string, readonly reason = 'GitOperationFailed') {
    super(message);
  }
}

export interface Snapshot {
  /** The commit the branch points at. */
  sha: string;
  /** Every file and directory of that commit's tree (paths relative to the repository root). */
  paths: Set<string>;
}

const cloneFail = (url: string, msg: string) => new GitFetchError(`failed to checkout and determine revision: unable to clone '${url}': ${msg}`);

/** Reads the branch at `url` and lists its tree; throws GitFetchError with the controller's message. */
export async function snapshotBranch(url: string, branch: string, auth: GitAuth, timeoutMs: number): Promise<Snapshot> {
  const ref = `refs/heads/${branch}`;
  const refs = url.startsWith('ssh://') ? await sshRefs(url, ref, auth, timeoutMs) : await httpRefs(url, auth, timeoutMs);
  if (refs.size === 0) throw new GitFetchError('git repository is empty', 'EmptyGitRepository');
  if (!refs.has(ref)) throw cloneFail(url, `couldn't find remote ref "${ref}"`);
  const dir = mkdtempSync(join(tmpdir(), 'sim-source-controller-'));
  try {
    const env = gitEnv(auth, dir);
    await git(['clone', '--quiet', '--depth', '1', '--single-branch', '--branch', branch, '--no-checkout', url, join(dir, 'repo')], env, timeoutMs).catch((e: Error) => {
      throw cloneFail(url, e.message);
    });
    const sha = (await git(['-C', join(dir, 'repo'), 'rev-parse', 'HEAD'], env, timeoutMs)).trim();
    const listing = await git(['-C', join(dir, 'repo'), 'ls-tree', '-r', '-t', '--name-only', 'HEAD'], env, timeoutMs);
    return { sha, paths: new Set(listing.split('\n').filter(Boolean)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The git environment: no user or system configuration, no prompts, the Secret's credentials. */
function gitEnv(auth: GitAuth, dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
  const header = authHeader(auth);
  if (header) Object.assign(env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: ${header}` });
  if (auth.identity) {
    const key = join(dir, 'identity');
    const known = join(dir, 'known_hosts');
    writeFileSync(key, forOpenSsh(auth.identity), { mode: 0o600 });
    writeFileSync(known, auth.knownHosts ?? '', { mode: 0o600 });
    env.GIT_SSH_COMMAND = `ssh -F /dev/null -i ${key} -o IdentitiesOnly=yes -o UserKnownHostsFile=${known} -o StrictHostKeyChecking=yes -o BatchMode=yes`;
  }
  return env;
}

/**
 * The identity in a form the ssh client loads. Flux (golang.org/x/crypto/ssh ParseRawPrivateKey) takes a PKCS#8
 * "PRIVATE KEY" of any type; OpenSSH 9 does not load an ed25519 one, so that is re-encoded as openssh-key-v1
 * (OpenSSH PROTOCOL.key: unencrypted, one key, check ints, key type, public, seed‖public, comment, padding).
 */
export function forOpenSsh(identity: string): string {
  const text = identity.endsWith('\n') ? identity : `${identity}\n`;
  if (!text.includes('-----BEGIN PRIVATE KEY-----')) return text;
  let key;
  try {
    key = createPrivateKey(text);
  } catch {
    return text;
  }
  if (key.asymmetricKeyType !== 'ed25519') return text;
  const seed = key.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
  const pub = createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32);
  const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  const str = (b: Buffer | string) => {
    const buf = typeof b === 'string' ? Buffer.from(b) : b;
    return Buffer.concat([u32(buf.length), buf]);
  };
  const pubBlob = Buffer.concat([str('ssh-ed25519'), str(pub)]);
  const check = randomBytes(4);
  let priv = Buffer.concat([check, check, str('ssh-ed25519'), str(pub), str(Buffer.concat([seed, pub])), str('')]);
  const pad = (8 - (priv.length % 8)) % 8;
  priv = Buffer.concat([priv, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0'), str('none'), str('none'), str(''), u32(1), str(pubBlob), str(priv)]).toString('base64');
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${body.match(/.{1,70}/g)!.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

function authHeader(a: GitAuth): string | null {
  if (a.bearerToken) return `Bearer ${a.bearerToken}`;
  if (a.username !== undefined || a.password !== undefined) return `Basic ${Buffer.from(`${a.username ?? ''}:${a.password ?? ''}`).toString('base64')}`;
  return null;
}

function git(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { env, timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const lines = String(stderr).trim().split('\n').filter(Boolean);
        reject(new Error(lines[lines.length - 1]?.replace(/^fatal: /, '') ?? err.message));
      } else resolve(String(stdout));
    });
  });
}

/** Go's net/http error text for a request that never got an answer. */
function dialError(method: string, target: string, hostPort: string, e: NodeJS.ErrnoException): string {
  const why = e.code === 'ECONNREFUSED' ? 'connect: connection refused' : e.code === 'ENOTFOUND' ? 'no such host' : e.code === 'ETIMEDOUT' ? 'i/o timeout' : e.message;
  return `${method} "${target}": dial tcp ${hostPort}: ${why}`;
}

/** The smart-HTTP ref advertisement (git protocol v0/v1 pkt-lines). */
async function httpRefs(url: string, auth: GitAuth, timeoutMs: number): Promise<Map<string, string>> {
  const target = `${url.replace(/\/+$/, '')}/info/refs?service=git-upload-pack`;
  const u = new URL(target);
  const hostPort = `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
  const header = authHeader(auth);
  const { status, body } = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { method: 'GET', headers: { 'User-Agent': 'git/2.0 (flux source-controller)', ...(header ? { Authorization: header } : {}) }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => reject(cloneFail(url, dialError('Get', target, hostPort, e))));
    req.end();
  });
  const reason = body.toString('utf8');
  if (status === 401) throw cloneFail(url, `authentication required: ${reason}`);
  if (status === 403) throw cloneFail(url, `authorization failed: ${reason}`);
  if (status === 404) throw cloneFail(url, `repository not found: ${reason}`);
  if (status < 200 || status >= 300) throw cloneFail(url, `unexpected client error: unexpected requesting "${target}" status code: ${status}`);
  return parseAdvertisement(body);
}

/** Parses `<sha> <ref>[\0caps]` pkt-lines (the service line and flush packets are skipped). */
export function parseAdvertisement(body: Buffer): Map<string, string> {
  const refs = new Map<string, string>();
  let i = 0;
  while (i + 4 <= body.length) {
    const len = parseInt(body.subarray(i, i + 4).toString('ascii'), 16);
    if (Number.isNaN(len)) break;
    if (len === 0) {
      i += 4;
      continue;
    }
    const line = body.subarray(i + 4, i + len).toString('utf8').replace(/\n$/, '').split('\0')[0]!;
    i += len;
    const m = /^([0-9a-f]{40}) (\S+)$/.exec(line);
    if (m && !/^0{40}$/.test(m[1]!)) refs.set(m[2]!, m[1]!);
  }
  return refs;
}

/** Refs over ssh: the TCP dial first (go-git's own error text), then the real git and ssh with the Secret's key. */
async function sshRefs(url: string, ref: string, auth: GitAuth, timeoutMs: number): Promise<Map<string, string>> {
  const u = new URL(url);
  const port = Number(u.port || 22);
  await new Promise<void>((resolve, reject) => {
    const s = connect({ host: u.hostname, port, timeout: timeoutMs }, () => {
      s.destroy();
      resolve();
    });
    s.on('timeout', () => s.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    s.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ECONNREFUSED' ? 'connect: connection refused' : e.code === 'ETIMEDOUT' ? 'i/o timeout' : e.message;
      reject(cloneFail(url, `dial tcp ${u.hostname}:${port}: ${why}`));
    });
  });
  const dir = mkdtempSync(join(tmpdir(), 'sim-source-controller-'));
  try {
    const out = await git(['ls-remote', url, ref], gitEnv(auth, dir), timeoutMs).catch((e: Error) => {
      const m = e.message;
      if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/.test(m)) throw cloneFail(url, 'ssh: handshake failed: knownhosts: key is unknown');
      if (/Permission denied/.test(m)) throw cloneFail(url, 'ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain');
      throw cloneFail(url, m);
    });
    // ls-remote of one ref: an empty answer is a repository without that branch (not an empty repository).
    const refs = new Map<string, string>([['HEAD', '']]);
    for (const line of out.split('\n')) {
      const [sha, name] = line.split('\t');
      if (sha && name) refs.set(name, sha);
    }
    return refs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
