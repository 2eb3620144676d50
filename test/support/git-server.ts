// Test support: a git smart-HTTP server on a loopback address — the real `git http-backend` run as CGI behind a
// small Node HTTP server that checks basic-auth credentials (401 otherwise) — plus static files (a Flux install
// manifest) served from the same listener. Repositories are bare repos under a temporary root.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface GitServer {
  /** http://host:port */
  url: string;
  root: string;
  /** Served at these paths (e.g. /v2.9.4/install.yaml). */
  files: Map<string, string>;
  /** Required basic-auth user and password; null serves anyone. */
  auth: { username: string; password: string } | null;
  /** Creates a bare repository `<name>.git` whose branch holds these files; returns the commit. */
  createRepo(name: string, branch: string, files: Record<string, string>): string;
  /** Commits these files on top of the branch; returns the new commit. */
  commit(name: string, branch: string, files: Record<string, string>): string;
  head(name: string, branch: string): string;
  requests: string[];
  close(): Promise<void>;
}

const GIT_ENV = { GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'test', GIT_AUTHOR_EMAIL: 'test@example.invalid', GIT_COMMITTER_NAME: 'test', GIT_COMMITTER_EMAIL: 'test@example.invalid', GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z' };

export function gitIn(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, HOME: cwd, ...GIT_ENV, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export async function startGitServer(host: string, port = 0): Promise<GitServer> {
  const root = mkdtempSync(join(tmpdir(), 'cloudlab-git-'));
  const requests: string[] = [];
  const server = createServer((req, res) => handle(req, res).catch((e: Error) => {
    res.statusCode = 500;
    res.end(e.message);
  }));
  const s: GitServer = {
    url: '',
    root,
    files: new Map(),
    auth: null,
    requests,
    createRepo(name, branch, files) {
      gitIn(root, ['init', '--quiet', '--bare', `${name}.git`]);
      return this.commit(name, branch, files);
    },
    commit(name, branch, files) {
      const work = mkdtempSync(join(tmpdir(), 'cloudlab-git-work-'));
      try {
        const bare = join(root, `${name}.git`);
        gitIn(work, ['init', '--quiet', '-b', branch]);
        gitIn(work, ['fetch', '--quiet', bare, `+refs/heads/*:refs/remotes/origin/*`]);
        const has = gitIn(work, ['branch', '-r', '--list', `origin/${branch}`]);
        if (has) gitIn(work, ['reset', '--quiet', '--hard', `origin/${branch}`]);
        for (const [p, text] of Object.entries(files)) {
          mkdirSync(dirname(join(work, p)), { recursive: true });
          writeFileSync(join(work, p), text);
        }
        gitIn(work, ['add', '-A']);
        gitIn(work, ['commit', '--quiet', '--allow-empty', '-m', `test commit ${Object.keys(files).join(', ')}`]);
        gitIn(work, ['push', '--quiet', bare, `HEAD:refs/heads/${branch}`]);
        return gitIn(work, ['rev-parse', 'HEAD']);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    head: (name, branch) => gitIn(join(root, `${name}.git`), ['rev-parse', `refs/heads/${branch}`]),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(root, { recursive: true, force: true });
          resolve();
        });
      }),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${u.pathname}${u.search}`);
    const file = s.files.get(u.pathname);
    if (file !== undefined) {
      res.setHeader('Content-Type', 'text/plain');
      res.end(file);
      return;
    }
    let user = 'anonymous';
    if (s.auth) {
      const given = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
      const [name, pass] = given ? Buffer.from(given[1]!, 'base64').toString('utf8').split(':') : [];
      if (name !== s.auth.username || pass !== s.auth.password) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"', 'Content-Type': 'text/plain' });
        res.end('Unauthorized');
        return;
      }
      user = name;
    }
    // The real git http-backend as CGI (git-http-backend(1)): environment in, status line and headers out.
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH, GIT_PROJECT_ROOT: root, GIT_HTTP_EXPORT_ALL: '1', PATH_INFO: decodeURIComponent(u.pathname), QUERY_STRING: u.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET', CONTENT_TYPE: req.headers['content-type'] ?? '', REMOTE_USER: user, REMOTE_ADDR: req.socket.remoteAddress ?? '',
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(cgi.stdin);
    const chunks: Buffer[] = [];
    cgi.stdout.on('data', (c: Buffer) => chunks.push(c));
    await new Promise<void>((resolve) => cgi.on('close', () => resolve()));
    const out = Buffer.concat(chunks);
    const sep = out.indexOf('\r\n\r\n') >= 0 ? '\r\n\r\n' : '\n\n';
    const end = out.indexOf(sep);
    const head = out.subarray(0, end).toString('utf8').split(/\r?\n/);
    let code = 200;
    for (const line of head) {
      const i = line.indexOf(':');
      const k = line.slice(0, i).trim();
      const v = line.slice(i + 1).trim();
      if (k.toLowerCase() === 'status') code = parseInt(v, 10);
      else if (k) res.setHeader(k, v);
    }
    res.statusCode = code;
    res.end(out.subarray(end + sep.length));
  }

  await new Promise<void>((resolve) => server.listen(port, host, () => resolve()));
  s.url = `http://${host}:${(server.address() as AddressInfo).port}`;
  return s;
}
