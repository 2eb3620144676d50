// The simulator's machine-config reader: which fields it takes from where (v1alpha1 and multi-document forms), and
// the Talos-like wording of parse versus validation failures.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse, stringify } from 'yaml';
import { ConfigInvalid, installerVersion, parseMachineConfig } from '../../src/sim/talos/config.js';
import { makeCluster, type TestCluster } from './support.js';

describe('simulator config reader', () => {
  let cl: TestCluster;
  before(async () => {
    cl = await makeCluster({ name: 'cfg', endpoint: 'https://127.0.67.10:6443', vip: '127.0.67.10' });
  });

  it('reads type, CAs, endpoint, cluster identity, hostname and VIP from the multi-document form', () => {
    const { config, warnings } = parseMachineConfig(cl.config({ type: 'controlplane', hostname: 'cp-1', vip: '127.0.67.10' }));
    assert.deepEqual(warnings, []);
    assert.equal(config.type, 'controlplane');
    assert.equal(config.hostname, 'cp-1');
    assert.equal(config.vip, '127.0.67.10');
    assert.equal(config.endpoint.href, 'https://127.0.67.10:6443/');
    assert.equal(config.clusterId, cl.bundle.cluster.id);
    assert.equal(config.clusterName, 'cfg');
    assert.equal(config.osCa.crt, cl.bundle.certs.os.crt);
    assert.ok(config.osCa.key?.includes('PRIVATE KEY'));
    assert.equal(config.installImage, 'ghcr.io/siderolabs/installer:v1.12.11');
  });

  it('reads the legacy v1alpha1 hostname and interface VIP; a worker carries no CA keys', () => {
    const docs = cl.config({ type: 'worker', hostname: 'x' }).split('---\n');
    const v1 = parse(docs[0] ?? '') as { machine: Record<string, unknown> };
    v1.machine.network = { hostname: 'w-legacy', interfaces: [{ interface: 'eth0', dhcp: true, vip: { ip: '127.0.67.20' } }] };
    const { config } = parseMachineConfig(stringify(v1));
    assert.equal(config.hostname, 'w-legacy');
    assert.equal(config.vip, '127.0.67.20');
    assert.equal(config.type, 'worker');
    assert.equal(config.osCa.key, undefined);
  });

  it('separates parse errors from validation errors and lists every problem', () => {
    assert.throws(() => parseMachineConfig('machine: [unclosed'), (e: unknown) => e instanceof ConfigInvalid && e.parse && /failed to parse config/.test(e.message));
    assert.throws(() => parseMachineConfig('apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: a\n'), (e: unknown) => e instanceof ConfigInvalid && !e.parse && /no v1alpha1 document/.test(e.message));
    const bad = cl.config({ type: 'controlplane', hostname: 'UPPER_case!' }).replace(/\n +token: \S+/, '');
    assert.throws(() => parseMachineConfig(bad), (e: unknown) => {
      assert.ok(e instanceof ConfigInvalid);
      assert.match(e.message, /configuration validation failed: 2 errors occurred/);
      assert.match(e.message, /machine.token is required/);
      assert.match(e.message, /hostname "UPPER_case!" is not a valid DNS name/);
      return true;
    });
    const vipOnWorker = `${cl.config({ type: 'worker', hostname: 'w' })}---\n${stringify({ apiVersion: 'v1alpha1', kind: 'Layer2VIPConfig', name: '127.0.67.10', link: 'eth0' })}`;
    assert.throws(() => parseMachineConfig(vipOnWorker), /Layer2VIPConfig is only allowed on control plane machines/);
  });

  it('takes the Talos version from an installer image tag', () => {
    assert.equal(installerVersion('factory.talos.dev/installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:v1.12.1'), 'v1.12.1');
    assert.equal(installerVersion('ghcr.io/siderolabs/installer:v1.13.0-beta.1'), 'v1.13.0-beta.1');
    assert.equal(installerVersion('ghcr.io/siderolabs/installer:latest'), null);
    assert.equal(installerVersion('not an image'), null);
  });
});
