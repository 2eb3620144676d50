// Owns HTTP calls to an Image Factory: create a schematic, read one back, list Talos versions and official
// extensions. Errors carry method, path, status and body; every call has a timeout.
import { CloudlabError } from '../../core/errors.js';

export interface FactoryExtension {
  name: string;
  ref: string;
  digest: string;
  author?: string;
  description?: string;
}

export interface FactoryClientOptions {
  /** Base URL, e.g. https://factory.talos.dev */
  url: string;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class FactoryClient {
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(opts: FactoryClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.fetchFn = opts.fetch ?? fetch;
  }

  private async request(method: string, path: string, body?: string, contentType?: string): Promise<{ status: number; text: string; type: string }> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    try {
      res = await this.fetchFn(this.url + path, { method, signal, ...(body !== undefined ? { body, headers: { 'content-type': contentType ?? 'application/yaml' } } : {}) });
    } catch (e) {
      const timedOut = (e as Error).name === 'TimeoutError' || (e as Error).name === 'AbortError';
      throw new CloudlabError({
        code: 'FACTORY_UNREACHABLE',
        message: timedOut ? `Image Factory ${this.url} did not answer ${method} ${path} within ${this.timeoutMs} ms` : `cannot reach the Image Factory at ${this.url}: ${(e as Error).message}`,
        hint: 'Check network access to the factory, or work offline (schematic IDs are computed locally).',
        details: { method, path, url: this.url },
        cause: e,
      });
    }
    const text = await res.text();
    return { status: res.status, text, type: res.headers.get('content-type') ?? '' };
  }

  private fail(method: string, path: string, status: number, text: string): CloudlabError {
    return new CloudlabError({
      code: status === 400 ? 'FACTORY_REJECTED' : 'FACTORY_HTTP',
      message: `Image Factory ${method} ${path} failed with HTTP ${status}: ${text.trim().slice(0, 300)}`,
      details: { method, path, status, body: text.slice(0, 2000), url: this.url },
      exitCode: status === 400 ? 2 : 1,
    });
  }

  private parseJson<T>(method: string, path: string, text: string): T {
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new CloudlabError({ code: 'FACTORY_BAD_RESPONSE', message: `Image Factory ${method} ${path} returned invalid JSON`, details: { method, path, body: text.slice(0, 500) }, cause: e });
    }
  }

  /** POST /schematics: the factory's ID (and canonical text when the factory returns it). */
  async createSchematic(yamlText: string): Promise<{ id: string; schematic?: string }> {
    const r = await this.request('POST', '/schematics', yamlText, 'application/yaml');
    if (r.status !== 201 && r.status !== 200) throw this.fail('POST', '/schematics', r.status, r.text);
    const body = this.parseJson<{ id?: unknown; schematic?: unknown }>('POST', '/schematics', r.text);
    if (typeof body.id !== 'string' || !/^[0-9a-f]{64}$/.test(body.id)) {
      throw new CloudlabError({ code: 'FACTORY_BAD_RESPONSE', message: 'Image Factory POST /schematics returned no schematic id', details: { body: r.text.slice(0, 500) } });
    }
    return { id: body.id, ...(typeof body.schematic === 'string' ? { schematic: body.schematic } : {}) };
  }

  /** GET /schematics/:id: the canonical schematic text, or null when the factory does not know it. */
  async getSchematic(id: string): Promise<string | null> {
    const path = `/schematics/${id}`;
    const r = await this.request('GET', path);
    if (r.status === 404) return null;
    if (r.status !== 200) throw this.fail('GET', path, r.status, r.text);
    return r.text;
  }

  /** GET /versions: Talos versions the factory builds, ascending. */
  async listVersions(): Promise<string[]> {
    const r = await this.request('GET', '/versions');
    if (r.status !== 200) throw this.fail('GET', '/versions', r.status, r.text);
    const v = this.parseJson<unknown>('GET', '/versions', r.text);
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new CloudlabError({ code: 'FACTORY_BAD_RESPONSE', message: 'Image Factory GET /versions did not return a list of strings' });
    return v as string[];
  }

  /** GET /version/:v/extensions/official. */
  async listOfficialExtensions(version: string): Promise<FactoryExtension[]> {
    const path = `/version/${encodeURIComponent(version)}/extensions/official`;
    const r = await this.request('GET', path);
    if (r.status !== 200) throw this.fail('GET', path, r.status, r.text);
    const v = this.parseJson<unknown>('GET', path, r.text);
    if (!Array.isArray(v)) throw new CloudlabError({ code: 'FACTORY_BAD_RESPONSE', message: `Image Factory GET ${path} did not return a list` });
    return (v as FactoryExtension[]).filter((e) => e && typeof e.name === 'string');
  }
}
