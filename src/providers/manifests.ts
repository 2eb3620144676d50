// Owns pinned upstream manifests (Flux's install.yaml, the Proxmox CCM/CSI deploy files): fetched once over HTTPS,
// checked against a sha256 pin when the spec gives one, and kept in the cluster directory with a header naming
// source, version and digest. The kept file is the pin from then on: later runs apply it without any download,
// and a changed version fetches the new release. CLOUDLAB_MANIFEST_MIRROR serves them from a mirror instead (a
// host without internet, and the simulated world): `<mirror>/<host>/<path>` of the release URL.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CloudlabError, EXIT_FAILURE } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';

export interface ManifestSource {
  /** What it is, for messages ("Flux v2.9.4 install manifest"). */
  what: string;
  url: string;
  /** A version tag recorded in the header; a kept file of another version is replaced. */
  version: string;
  /** Expected sha256 (hex) of the body as served. */
  sha256?: string | null;
  /** Where it is kept (absolute path). */
  path: string;
  timeoutMs?: number;
  /** Base URL of a mirror laid out as `<mirror>/<host>/<path>` (CLOUDLAB_MANIFEST_MIRROR); the header keeps `url`. */
  mirror?: string | undefined;
}

/** Where a release URL is fetched from: itself, or its copy on the mirror. */
export function mirroredUrl(url: string, mirror: string | undefined): string {
  if (!mirror) return url;
  const u = new URL(url);
  return `${mirror.replace(/\/+$/, '')}/${u.host}${u.pathname}`;
}

export interface Manifest {
  text: string;
  sha256: string;
  /** True when this run downloaded it (the file then needs committing). */
  fetched: boolean;
}

const HEADER = /^# cloudlab-manifest: version=(\S+) sha256=([0-9a-f]{64}) source=(\S+)\n/;

const digest = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Reads the kept copy when it is of this version (and matches the pin), else fetches and keeps it. */
export async function ensureManifest(src: ManifestSource): Promise<Manifest> {
  if (existsSync(src.path)) {
    const kept = readFileSync(src.path, 'utf8');
    const m = HEADER.exec(kept);
    if (m && m[1] === src.version) {
      const body = kept.slice(m[0].length);
      const sum = digest(body);
      if (sum !== m[2]) {
        throw new CloudlabError({ code: 'MANIFEST_EDITED', exitCode: EXIT_FAILURE, message: `${src.path}: the kept ${src.what} was edited (sha256 ${sum}, header says ${m[2]})`, hint: 'restore it from git, or delete it to fetch the release again' });
      }
      checkPin(src, sum);
      return { text: body, sha256: sum, fetched: false };
    }
  }
  const body = await download(src);
  const sum = digest(body);
  checkPin(src, sum);
  mkdirSync(dirname(src.path), { recursive: true });
  writeFileAtomic(src.path, `# cloudlab-manifest: version=${src.version} sha256=${sum} source=${src.url}\n${body}`);
  return { text: body, sha256: sum, fetched: true };
}

function checkPin(src: ManifestSource, sum: string): void {
  if (src.sha256 && src.sha256 !== sum) {
    throw new CloudlabError({
      code: 'MANIFEST_PIN_MISMATCH',
      exitCode: EXIT_FAILURE,
      message: `the ${src.what} from ${src.url} has sha256 ${sum}, but the spec pins ${src.sha256}`,
      hint: 'nothing was applied; check the release (or a proxy rewriting it), then update the pin in the spec if the new digest is right',
    });
  }
}

async function download(src: ManifestSource): Promise<string> {
  const timeoutMs = src.timeoutMs ?? 60_000;
  const url = mirroredUrl(src.url, src.mirror);
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
  } catch (e) {
    throw new CloudlabError({ code: 'MANIFEST_FETCH_FAILED', exitCode: EXIT_FAILURE, message: `cannot download the ${src.what} from ${url}: ${(e as Error).message}`, hint: 'this machine needs HTTPS access to it once; or serve a copy from a mirror (CLOUDLAB_MANIFEST_MIRROR=<base>, fetched as <base>/<host>/<path>)', cause: e });
  }
  if (res.status !== 200) {
    throw new CloudlabError({ code: 'MANIFEST_FETCH_FAILED', exitCode: EXIT_FAILURE, message: `cannot download the ${src.what}: ${url} answered ${res.status}`, hint: 'check the version exists upstream (a release tag such as v2.9.4)' });
  }
  return text;
}
