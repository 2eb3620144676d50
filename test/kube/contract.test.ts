// Contract of the Kubernetes API as its conventions define it (community/contributors/devel/sig-architecture/
// api-conventions.md) and the API server words it (k8s.io/apimachinery/pkg/api/errors/errors.go,
// k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go, apimachinery/pkg/apis/meta/v1/watch.go).
// Runs against the simulator, or against a real cluster when CLOUDLAB_TEST_KUBECONFIG names a kubeconfig file
// (it works in a namespace of its own and deletes it afterwards).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { KubeClient } from '../../src/providers/kube/client.js';
import { KubeObjects } from '../../src/providers/kube/objects.js';
import { until } from '../talos/support.js';
import { kubelet, startKubeSim, type KubeSim } from './support.js';

type Obj = Record<string, unknown>;
const md = (o: Obj) => (o.metadata ?? {}) as Obj;
const REAL = process.env.CLOUDLAB_TEST_KUBECONFIG;
const NS = `cloudlab-contract-${process.pid}`;

describe(`Kubernetes API contract (${REAL ? 'real cluster' : 'simulator'})`, () => {
  let sim: KubeSim | null = null;
  let kube: KubeClient;
  let objs: KubeObjects;
  let kubeconfig: string;

  /** A raw call: status and parsed body, whatever the status. */
  const call = async (method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const r = await kube.request(method, path, { ...(body !== undefined ? { body, contentType } : {}), ok: [200, 201, 202, 400, 401, 404, 409, 410, 415, 422, 429, 500] });
    return r;
  };

  before(async () => {
    if (REAL) kubeconfig = readFileSync(REAL, 'utf8');
    else {
      sim = await startKubeSim({ host: '127.1.1.10', kubelets: [kubelet('cp1', '127.1.1.11', true), kubelet('w1', '127.1.1.21', false)] });
      kubeconfig = sim.kubeconfig;
    }
    kube = KubeClient.fromKubeconfig(kubeconfig);
    objs = new KubeObjects(kube);
    await until('the API answers', async () => ((await kube.readyz()).ok ? true : undefined));
    await objs.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }, { fieldManager: 'contract' });
  });
  after(async () => {
    await objs.delete({ apiVersion: 'v1', kind: 'Namespace', name: NS }).catch(() => undefined);
    kube.close();
    await sim?.close();
  });

  it('discovery lists core, apps, batch, policy, rbac, apiextensions and coordination with kinds, scope, verbs and short names', async () => {
    const api = (await call('GET', '/api')).data;
    assert.equal(api.kind, 'APIVersions');
    assert.ok((api.versions as string[]).includes('v1'));
    const groups = ((await call('GET', '/apis')).data.groups as Obj[]).map((g) => g.name);
    for (const g of ['apps', 'batch', 'policy', 'rbac.authorization.k8s.io', 'apiextensions.k8s.io', 'coordination.k8s.io']) assert.ok(groups.includes(g), g);
    const core = (await call('GET', '/api/v1')).data;
    assert.equal(core.kind, 'APIResourceList');
    assert.equal(core.groupVersion, 'v1');
    const res = core.resources as Obj[];
    const pods = res.find((r) => r.name === 'pods')!;
    assert.equal(pods.namespaced, true);
    assert.equal(pods.kind, 'Pod');
    assert.deepEqual(pods.shortNames, ['po']);
    for (const v of ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']) assert.ok((pods.verbs as string[]).includes(v), v);
    const eviction = res.find((r) => r.name === 'pods/eviction')!;
    assert.deepEqual([eviction.group, eviction.version, eviction.kind, eviction.verbs], ['policy', 'v1', 'Eviction', ['create']]);
    const nodes = res.find((r) => r.name === 'nodes')!;
    assert.equal(nodes.namespaced, false);
    const apps = ((await call('GET', '/apis/apps/v1')).data.resources as Obj[]).find((r) => r.name === 'deployments')!;
    assert.deepEqual(apps.shortNames, ['deploy']);
  });

  it('create assigns uid, creationTimestamp, resourceVersion and generation; generateName makes a unique name; a duplicate is 409 AlreadyExists', async () => {
    const c = await call('POST', `/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' }, data: { a: '1' } });
    assert.equal(c.status, 201);
    assert.match(String(md(c.data).uid), /^[0-9a-f-]{36}$/);
    assert.ok(md(c.data).resourceVersion && md(c.data).creationTimestamp);
    const g = await call('POST', `/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } });
    assert.match(String(md(g.data).name), /^gen-[a-z0-9]{5}$/);
    const d = await call('POST', `/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' } });
    assert.equal(d.status, 409);
    assert.deepEqual([d.data.kind, d.data.status, d.data.reason, d.data.message], ['Status', 'Failure', 'AlreadyExists', 'configmaps "one" already exists']);
  });

  it('a missing object is 404 NotFound naming the resource (with its group)', async () => {
    const r = await call('GET', `/api/v1/namespaces/${NS}/configmaps/nope`);
    assert.equal(r.status, 404);
    assert.deepEqual([r.data.reason, r.data.message, (r.data.details as Obj).kind], ['NotFound', 'configmaps "nope" not found', 'configmaps']);
    const d = await call('GET', `/apis/apps/v1/namespaces/${NS}/deployments/nope`);
    assert.equal(d.data.message, 'deployments.apps "nope" not found');
  });

  it('an update with a stale resourceVersion is 409 Conflict; with the current one it succeeds and bumps it', async () => {
    const live = (await call('GET', `/api/v1/namespaces/${NS}/configmaps/one`)).data;
    const ok = await call('PUT', `/api/v1/namespaces/${NS}/configmaps/one`, { ...live, data: { a: '2' } });
    assert.equal(ok.status, 200);
    assert.notEqual(md(ok.data).resourceVersion, md(live).resourceVersion);
    const stale = await call('PUT', `/api/v1/namespaces/${NS}/configmaps/one`, { ...live, data: { a: '3' } });
    assert.equal(stale.status, 409);
    assert.equal(stale.data.reason, 'Conflict');
    assert.equal(stale.data.message, 'Operation cannot be fulfilled on configmaps "one": the object has been modified; please apply your changes to the latest version and try again');
  });

  it('lists filter by label selector (=, !=, in, notin, exists, !) and field selector; an unknown field is 400', async () => {
    for (const [name, tier] of [['l-a', 'web'], ['l-b', 'db'], ['l-c', '']] as const) {
      await call('POST', `/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: tier ? { tier, set: 'l' } : { set: 'l' } } });
    }
    const names = async (q: string) => ((await call('GET', `/api/v1/namespaces/${NS}/configmaps?${q}`)).data.items as Obj[]).map((o) => md(o).name).sort();
    assert.deepEqual(await names('labelSelector=tier%3Dweb'), ['l-a']);
    assert.deepEqual(await names(`labelSelector=${encodeURIComponent('set=l,tier!=web')}`), ['l-b', 'l-c']);
    assert.deepEqual(await names(`labelSelector=${encodeURIComponent('tier in (web,db)')}`), ['l-a', 'l-b']);
    assert.deepEqual(await names(`labelSelector=${encodeURIComponent('set,tier notin (web)')}`), ['l-b', 'l-c']);
    assert.deepEqual(await names(`labelSelector=${encodeURIComponent('set,!tier')}`), ['l-c']);
    assert.deepEqual(await names('fieldSelector=metadata.name%3Dl-b'), ['l-b']);
    const bad = await call('GET', `/api/v1/namespaces/${NS}/configmaps?fieldSelector=spec.nope%3Dx`);
    assert.equal(bad.status, 400);
  });

  it('merge patch (null removes), strategic merge patch (containers by name) and JSON patch (RFC 6902)', async () => {
    await call('POST', `/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'p' }, data: { a: '1', b: '2' } });
    const m = await call('PATCH', `/api/v1/namespaces/${NS}/configmaps/p`, { data: { a: null, c: '3' } }, 'application/merge-patch+json');
    assert.deepEqual(m.data.data, { b: '2', c: '3' });
    const j = await call('PATCH', `/api/v1/namespaces/${NS}/configmaps/p`, [{ op: 'replace', path: '/data/b', value: 'x' }, { op: 'remove', path: '/data/c' }], 'application/json-patch+json');
    assert.deepEqual(j.data.data, { b: 'x' });
    const dep = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'smp' }, spec: { replicas: 0, selector: { matchLabels: { app: 'smp' } }, template: { metadata: { labels: { app: 'smp' } }, spec: { containers: [{ name: 'a', image: 'busybox:1' }, { name: 'b', image: 'busybox:1' }] } } } };
    await call('POST', `/apis/apps/v1/namespaces/${NS}/deployments`, dep);
    const s = await call('PATCH', `/apis/apps/v1/namespaces/${NS}/deployments/smp`, { spec: { template: { spec: { containers: [{ name: 'b', image: 'busybox:2' }] } } } }, 'application/strategic-merge-patch+json');
    const cs = (((s.data.spec as Obj).template as Obj).spec as Obj).containers as Obj[];
    assert.deepEqual(cs.map((c) => [c.name, c.image]), [['a', 'busybox:1'], ['b', 'busybox:2']]);
    assert.equal(md(s.data).generation, 2, 'a spec change bumps metadata.generation');
  });

  it('an object with finalizers is only marked (deletionTimestamp) until they are removed', async () => {
    await call('POST', `/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fin', finalizers: ['example.com/hold'] } });
    const d = await call('DELETE', `/api/v1/namespaces/${NS}/configmaps/fin`);
    assert.ok([200, 202].includes(d.status));
    const held = (await call('GET', `/api/v1/namespaces/${NS}/configmaps/fin`)).data;
    assert.ok(md(held).deletionTimestamp, 'deletionTimestamp is set');
    await call('PATCH', `/api/v1/namespaces/${NS}/configmaps/fin`, { metadata: { finalizers: null } }, 'application/merge-patch+json');
    await until('the object goes once its finalizers are gone', async () => ((await call('GET', `/api/v1/namespaces/${NS}/configmaps/fin`)).status === 404 ? true : undefined));
  });

  it('server-side apply: creates with an Apply managedFields entry, reports a conflict as the API server words it, takes over with force', async () => {
    const cm = (v: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa', namespace: NS }, data: { key: v } });
    const a = await objs.apply(cm('one'), { fieldManager: 'first' });
    const mf = (md(a).managedFields as Obj[]).find((e) => e.manager === 'first')!;
    assert.deepEqual([mf.operation, mf.apiVersion, mf.fieldsType], ['Apply', 'v1', 'FieldsV1']);
    assert.ok(((mf.fieldsV1 as Obj)['f:data'] as Obj)['f:key'], 'the applied field is owned');
    const c = await call('PATCH', `/api/v1/namespaces/${NS}/configmaps/ssa?fieldManager=second`, cm('two'), 'application/apply-patch+yaml');
    assert.equal(c.status, 409);
    assert.equal(c.data.reason, 'Conflict');
    assert.equal(c.data.message, 'Apply failed with 1 conflict: conflict with "first": .data.key');
    assert.deepEqual(((c.data.details as Obj).causes as Obj[])[0], { type: 'FieldManagerConflict', message: 'conflict with "first"', field: '.data.key' });
    const same = await call('PATCH', `/api/v1/namespaces/${NS}/configmaps/ssa?fieldManager=second`, cm('one'), 'application/apply-patch+yaml');
    assert.equal(same.status, 200, 'applying the same value shares ownership');
    const forced = await objs.apply(cm('three'), { fieldManager: 'second', force: true });
    assert.deepEqual(forced.data, { key: 'three' });
    const managers = (md(forced).managedFields as Obj[]).filter((e) => ((e.fieldsV1 as Obj)['f:data'] as Obj | undefined)?.['f:key']).map((e) => e.manager);
    assert.deepEqual(managers, ['second'], 'force moves the field to the new manager');
  });

  it('server-side apply removes a field the manager stops applying', async () => {
    const base = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa-drop', namespace: NS } };
    await objs.apply({ ...base, data: { a: '1', b: '2' } }, { fieldManager: 'owner' });
    const after2 = await objs.apply({ ...base, data: { a: '1' } }, { fieldManager: 'owner' });
    assert.deepEqual(after2.data, { a: '1' });
  });

  it('watch from a list resourceVersion sees ADDED, MODIFIED and DELETED as newline-delimited WatchEvents', async () => {
    const list = await call('GET', `/api/v1/namespaces/${NS}/configmaps?labelSelector=w%3D1`);
    const rv = String(md(list.data).resourceVersion);
    const events: Obj[] = [];
    const u = new URL(`/api/v1/namespaces/${NS}/configmaps?watch=1&labelSelector=w%3D1&resourceVersion=${rv}`, kube.server);
    const agent = (kube as unknown as { agent: import('node:https').Agent }).agent;
    const req = request(u, { agent, headers: { accept: 'application/json' } }, (res) => {
      let buf = '';
      res.on('data', (c: Buffer) => {
        buf += c.toString('utf8');
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          if (line) events.push(JSON.parse(line) as Obj);
        }
      });
    });
    req.end();
    await new Promise((r) => setTimeout(r, 300));
    await call('POST', `/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'wch', labels: { w: '1' } }, data: { v: '1' } });
    await call('PATCH', `/api/v1/namespaces/${NS}/configmaps/wch`, { data: { v: '2' } }, 'application/merge-patch+json');
    await call('DELETE', `/api/v1/namespaces/${NS}/configmaps/wch`);
    await until('three events', async () => (events.length >= 3 ? true : undefined), 10_000);
    req.destroy();
    assert.deepEqual(events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
    assert.deepEqual((events[1]!.object as Obj).data, { v: '2' });
    assert.equal((events[0]!.object as Obj).kind, 'ConfigMap');
  });

  it('deleting a namespace marks it Terminating and removes what it holds, then the namespace', async () => {
    const ns = `${NS}-gone`;
    await objs.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, { fieldManager: 'contract' });
    await call('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inside' } });
    await call('DELETE', `/api/v1/namespaces/${ns}`);
    const t = await call('GET', `/api/v1/namespaces/${ns}`);
    if (t.status === 200) assert.equal((t.data.status as Obj).phase, 'Terminating');
    await until('the namespace is gone', async () => ((await call('GET', `/api/v1/namespaces/${ns}`)).status === 404 ? true : undefined), 60_000);
    assert.equal((await call('GET', `/api/v1/namespaces/${ns}/configmaps/inside`)).status, 404);
  });

  it('a custom resource definition adds its kind to discovery; strategic merge patch on its objects is 415', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'gadgets.contract.cloudlab.dev' },
      spec: {
        group: 'contract.cloudlab.dev', scope: 'Namespaced', names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', shortNames: ['gd'] },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    };
    await objs.apply(crd, { fieldManager: 'contract' });
    try {
      const res = await until('the CRD is served', async () => {
        const r = await call('GET', '/apis/contract.cloudlab.dev/v1');
        return r.status === 200 ? (r.data.resources as Obj[]) : undefined;
      });
      const g = res.find((r) => r.name === 'gadgets')!;
      assert.deepEqual([g.kind, g.namespaced, g.shortNames], ['Gadget', true, ['gd']]);
      await until('a gadget is created', async () => (await objs.apply({ apiVersion: 'contract.cloudlab.dev/v1', kind: 'Gadget', metadata: { name: 'g1', namespace: NS }, spec: { size: 1 } }, { fieldManager: 'contract' })));
      const smp = await call('PATCH', `/apis/contract.cloudlab.dev/v1/namespaces/${NS}/gadgets/g1`, { spec: { size: 2 } }, 'application/strategic-merge-patch+json');
      assert.equal(smp.status, 415);
      const mp = await call('PATCH', `/apis/contract.cloudlab.dev/v1/namespaces/${NS}/gadgets/g1`, { spec: { size: 2 } }, 'application/merge-patch+json');
      assert.deepEqual(mp.data.spec, { size: 2 });
    } finally {
      await objs.delete({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'gadgets.contract.cloudlab.dev' });
    }
  });
});
