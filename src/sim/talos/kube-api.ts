// Owns the minimal Kubernetes API a simulated cluster serves on its endpoint: TLS with a serving certificate from the
// cluster's Kubernetes CA, client certificates required; /readyz, /livez, /version, discovery, and nodes (list, get, delete).
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';

export interface SimKubeNode {
  name: string;
  address: string;
  controlPlane: boolean;
  ready: boolean;
  kubeletVersion: string;
  createdAt: Date;
  uid: string;
}

export interface KubeApiHooks {
  kubernetesVersion: () => string;
  nodes: () => SimKubeNode[];
  deleteNode: (name: string) => boolean;
}

function status(code: number, reason: string, message: string, details?: Record<string, unknown>) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: code < 400 ? 'Success' : 'Failure', message, reason, ...(details ? { details } : {}), code };
}

function nodeObject(n: SimKubeNode): Record<string, unknown> {
  const now = new Date().toISOString();
  const labels: Record<string, string> = { 'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux' };
  if (n.controlPlane) labels['node-role.kubernetes.io/control-plane'] = '';
  return {
    kind: 'Node',
    apiVersion: 'v1',
    metadata: { name: n.name, uid: n.uid, creationTimestamp: n.createdAt.toISOString(), labels },
    spec: n.controlPlane ? { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] } : {},
    status: {
      conditions: [{
        type: 'Ready', status: n.ready ? 'True' : 'False', lastHeartbeatTime: now, lastTransitionTime: n.createdAt.toISOString(),
        reason: n.ready ? 'KubeletReady' : 'KubeletNotReady', message: n.ready ? 'kubelet is posting ready status' : 'container runtime network not ready',
      }],
      addresses: [{ type: 'InternalIP', address: n.address }, { type: 'Hostname', address: n.name }],
      nodeInfo: { kubeletVersion: n.kubeletVersion, osImage: 'Talos (simulated)', operatingSystem: 'linux', architecture: 'amd64', containerRuntimeVersion: 'containerd://2.1.5' },
    },
  };
}

function age(d: Date): string {
  const s = Math.max(0, Math.floor((Date.now() - d.getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}

function nodeTable(nodes: SimKubeNode[]): Record<string, unknown> {
  const col = (name: string, type: string, format = '') => ({ name, type, format, description: name, priority: 0 });
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: '1' },
    columnDefinitions: [col('Name', 'string', 'name'), col('Status', 'string'), col('Roles', 'string'), col('Age', 'string'), col('Version', 'string')],
    rows: nodes.map((n) => ({
      cells: [n.name, n.ready ? 'Ready' : 'NotReady', n.controlPlane ? 'control-plane' : '<none>', age(n.createdAt), n.kubeletVersion],
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: n.name, uid: n.uid, creationTimestamp: n.createdAt.toISOString() } },
    })),
  };
}

const RESOURCES = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'v1',
  resources: [{ name: 'nodes', singularName: 'node', namespaced: false, kind: 'Node', verbs: ['delete', 'get', 'list'], shortNames: ['no'] }],
};

/** Handles one request; exported for tests of routing without TLS. */
export function handleKubeRequest(req: IncomingMessage, res: ServerResponse, hooks: KubeApiHooks, authorized: boolean): void {
  const send = (code: number, body: unknown, type = 'application/json') => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  if (!authorized) return send(401, status(401, 'Unauthorized', 'Unauthorized'));
  const url = new URL(req.url ?? '/', 'https://sim');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  if (method === 'GET' && (path === '/readyz' || path === '/livez' || path === '/healthz')) return send(200, 'ok', 'text/plain; charset=utf-8');
  if (method === 'GET' && path === '/version') {
    const v = hooks.kubernetesVersion();
    const [maj, min] = v.replace(/^v/, '').split('.');
    return send(200, { major: maj, minor: min, gitVersion: v, gitCommit: '', gitTreeState: 'clean', buildDate: '', goVersion: '', compiler: 'gc', platform: 'linux/amd64' });
  }
  if (method === 'GET' && path === '/api') return send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: req.socket.localAddress ?? '' }] });
  if (method === 'GET' && path === '/apis') return send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
  if (method === 'GET' && path === '/api/v1') return send(200, RESOURCES);
  if (path === '/api/v1/nodes') {
    if (method !== 'GET') return send(405, status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
    const nodes = hooks.nodes().sort((a, b) => a.name.localeCompare(b.name));
    if (/as=Table/.test(String(req.headers.accept ?? ''))) return send(200, nodeTable(nodes));
    return send(200, { kind: 'NodeList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: nodes.map(nodeObject) });
  }
  const m = /^\/api\/v1\/nodes\/([^/]+)$/.exec(path);
  if (m) {
    const name = decodeURIComponent(m[1] ?? '');
    const node = hooks.nodes().find((n) => n.name === name);
    const notFound = () => send(404, status(404, 'NotFound', `nodes "${name}" not found`, { name, kind: 'nodes' }));
    if (method === 'GET') {
      if (!node) return notFound();
      if (/as=Table/.test(String(req.headers.accept ?? ''))) return send(200, nodeTable([node]));
      return send(200, nodeObject(node));
    }
    if (method === 'DELETE') {
      if (!node || !hooks.deleteNode(name)) return notFound();
      return send(200, status(200, '', '', { name, kind: 'nodes', uid: node.uid }));
    }
    return send(405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
  }
  return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
}

/** Starts the API on host:port with the given serving certificate; client certificates must chain to the Kubernetes CA. */
export async function startKubeApi(opts: { host: string; port: number; cert: string; key: string; clientCa: string; hooks: KubeApiHooks }): Promise<Server> {
  const server = createServer({ cert: opts.cert, key: opts.key, ca: opts.clientCa, requestCert: true, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, (req, res) => {
    try {
      handleKubeRequest(req, res, opts.hooks, (req.socket as TLSSocket).authorized === true);
    } catch (e) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status(500, 'InternalError', (e as Error).message)));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
