// Owns a tiny Kubernetes API client built from a kubeconfig (current context, client certificate or token):
// readyz, version, and nodes (list, get, delete), over node:https with the cluster CA, every call bounded by a timeout.
import { request, Agent } from 'node:https';
import { parse } from 'yaml';
import { CloudlabError } from '../../core/errors.js';
import { registerSecret } from '../../core/redact.js';

export interface KubeNodeInfo {
  name: string;
  ready: boolean;
  readyReason: string;
  /** The Ready condition's message (kubelet says why it is not ready, e.g. NetworkPluginNotReady without a CNI). */
  readyMessage: string;
  addresses: { type: string; address: string }[];
  controlPlane: boolean;
  kubeletVersion: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

function named(list: unknown, name: string, what: string): Obj {
  const hit = Array.isArray(list) ? list.find((x) => isObj(x) && x.name === name) : undefined;
  if (!isObj(hit)) throw new CloudlabError({ code: 'KUBECONFIG_INVALID', message: `kubeconfig: ${what} "${name}" is not defined`, exitCode: 2, hint: 'Fetch the kubeconfig again from a control plane.' });
  return hit;
}

function dataOrNothing(o: Obj | undefined, key: string): string | undefined {
  const v = o?.[key];
  return typeof v === 'string' && v ? Buffer.from(v, 'base64').toString('utf8') : undefined;
}

function toNode(o: Obj): KubeNodeInfo {
  const md = (o.metadata ?? {}) as Obj;
  const st = (o.status ?? {}) as Obj;
  const conds = Array.isArray(st.conditions) ? (st.conditions as Obj[]) : [];
  const ready = conds.find((c) => c.type === 'Ready');
  const labels = (md.labels ?? {}) as Record<string, string>;
  return {
    name: String(md.name ?? ''),
    ready: ready?.status === 'True',
    readyReason: String(ready?.reason ?? 'NoReadyCondition'),
    readyMessage: String(ready?.message ?? ''),
    addresses: Array.isArray(st.addresses) ? (st.addresses as Obj[]).map((a) => ({ type: String(a.type), address: String(a.address) })) : [],
    controlPlane: 'node-role.kubernetes.io/control-plane' in labels,
    kubeletVersion: String(((st.nodeInfo ?? {}) as Obj).kubeletVersion ?? ''),
  };
}

export class KubeClient {
  private readonly agent: Agent;

  private constructor(readonly server: URL, private readonly token: string | undefined, agentOpts: { ca?: string; cert?: string; key?: string }, private readonly timeoutMs: number) {
    this.agent = new Agent({ ...agentOpts, keepAlive: false });
  }

  /** Builds a client from kubeconfig YAML (its current context). */
  static fromKubeconfig(yamlText: string, opts: { context?: string; timeoutMs?: number } = {}): KubeClient {
    let doc: Obj;
    try {
      doc = parse(yamlText) as Obj;
    } catch (e) {
      throw new CloudlabError({ code: 'KUBECONFIG_INVALID', message: `kubeconfig is not valid YAML: ${(e as Error).message}`, exitCode: 2, cause: e });
    }
    if (!isObj(doc)) throw new CloudlabError({ code: 'KUBECONFIG_INVALID', message: 'kubeconfig is empty', exitCode: 2 });
    const ctxName = opts.context ?? String(doc['current-context'] ?? '');
    const ctx = named(doc.contexts, ctxName, 'context').context as Obj;
    const cluster = named(doc.clusters, String(ctx?.cluster ?? ''), 'cluster').cluster as Obj;
    const user = (named(doc.users, String(ctx?.user ?? ''), 'user').user ?? {}) as Obj;
    const server = String(cluster?.server ?? '');
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new CloudlabError({ code: 'KUBECONFIG_INVALID', message: `kubeconfig: cluster server "${server}" is not a URL`, exitCode: 2 });
    }
    const key = dataOrNothing(user, 'client-key-data');
    const token = typeof user.token === 'string' ? user.token : undefined;
    registerSecret(key);
    registerSecret(token);
    const agentOpts: { ca?: string; cert?: string; key?: string } = {};
    const ca = dataOrNothing(cluster, 'certificate-authority-data');
    const cert = dataOrNothing(user, 'client-certificate-data');
    if (ca) agentOpts.ca = ca;
    if (cert) agentOpts.cert = cert;
    if (key) agentOpts.key = key;
    return new KubeClient(url, token, agentOpts, opts.timeoutMs ?? 15_000);
  }

  close(): void {
    this.agent.destroy();
  }

  private call(method: string, path: string, body?: { contentType: string; data: string }): Promise<{ status: number; body: string }> {
    const url = new URL(path, this.server);
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method, agent: this.agent, timeout: this.timeoutMs,
        headers: {
          accept: 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body ? { 'content-type': body.contentType, 'content-length': Buffer.byteLength(body.data) } : {}),
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (e) => reject(new CloudlabError({
        code: 'KUBE_UNREACHABLE', message: `Kubernetes API ${this.server.host}: ${method} ${path} failed: ${e.message}`, cause: e,
        details: { method, path, server: this.server.origin },
        hint: 'The API answers only after bootstrap, on the cluster endpoint (VIP or first control plane); check that a control plane is up.',
      })));
      req.end(body?.data);
    });
  }

  /**
   * Any API call with a JSON answer: the status and parsed body for the statuses the caller expects, a
   * CloudlabError (KUBE_HTTP / KUBE_UNAUTHORIZED with the API's message) otherwise. For callers that own one
   * resource's semantics (drain, eviction).
   */
  async request(method: string, path: string, opts: { body?: unknown; contentType?: string; ok?: number[] } = {}): Promise<{ status: number; data: Obj }> {
    const body = opts.body === undefined ? undefined : { contentType: opts.contentType ?? 'application/json', data: JSON.stringify(opts.body) };
    return this.json(method, path, opts.ok ?? [200], body);
  }

  private async json(method: string, path: string, okStatuses = [200], body?: { contentType: string; data: string }): Promise<{ status: number; data: Obj }> {
    const r = await this.call(method, path, body);
    if (!okStatuses.includes(r.status)) {
      let message = r.body.slice(0, 300);
      try {
        message = String((JSON.parse(r.body) as Obj).message ?? message);
      } catch {
        // A non-JSON error body is shown as text.
      }
      throw new CloudlabError({
        code: r.status === 401 || r.status === 403 ? 'KUBE_UNAUTHORIZED' : 'KUBE_HTTP', message: `Kubernetes API ${method} ${path}: HTTP ${r.status}: ${message}`,
        details: { method, path, status: r.status, server: this.server.origin },
        ...(r.status === 401 ? { hint: 'The kubeconfig client certificate is not accepted: fetch a fresh kubeconfig from a control plane.' } : {}),
      });
    }
    return { status: r.status, data: r.body ? (JSON.parse(r.body) as Obj) : {} };
  }

  /** A plain-text GET (a pod's log); throws KUBE_HTTP with the API's message on another status. */
  async text(path: string): Promise<string> {
    const r = await this.call('GET', path);
    if (r.status !== 200) throw new CloudlabError({ code: 'KUBE_HTTP', message: `Kubernetes API GET ${path}: HTTP ${r.status}: ${r.body.slice(0, 300)}`, details: { method: 'GET', path, status: r.status, server: this.server.origin } });
    return r.body;
  }

  /** The /readyz answer: ok when HTTP 200. */
  async readyz(): Promise<{ ok: boolean; status: number; body: string }> {
    const r = await this.call('GET', '/readyz');
    return { ok: r.status === 200, status: r.status, body: r.body };
  }

  async version(): Promise<{ gitVersion: string; major: string; minor: string; platform: string }> {
    const { data } = await this.json('GET', '/version');
    return { gitVersion: String(data.gitVersion ?? ''), major: String(data.major ?? ''), minor: String(data.minor ?? ''), platform: String(data.platform ?? '') };
  }

  async listNodes(): Promise<KubeNodeInfo[]> {
    const { data } = await this.json('GET', '/api/v1/nodes');
    return (Array.isArray(data.items) ? (data.items as Obj[]) : []).map(toNode).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A node by name, or null when it does not exist. */
  async getNode(name: string): Promise<KubeNodeInfo | null> {
    const { status, data } = await this.json('GET', `/api/v1/nodes/${encodeURIComponent(name)}`, [200, 404]);
    return status === 404 ? null : toNode(data);
  }

  /** Deletes a node object; false when it did not exist. */
  async deleteNode(name: string): Promise<boolean> {
    const { status } = await this.json('DELETE', `/api/v1/nodes/${encodeURIComponent(name)}`, [200, 202, 404]);
    return status !== 404;
  }
}
