// C7/S11: what the QEMU guest agent of a Talos node reports (qemu-guest-agent guest-network-get-interfaces lists
// every link): eth0 with the node's lease and, on the VIP holder, the VIP that Talos' VIP operator adds as a /32
// (siderolabs/talos internal/app/machined/pkg/controllers/network/operator/vip.go); once Kubernetes runs with
// flannel, flannel.1, cni0 and veth* links. cloudlab takes the node's own address, never the VIP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { harness, specHead } from './support.js';
import { readSecretFile } from '../../src/sops/index.js';
import { KUBECONFIG_FILE } from '../../src/clusterdir/index.js';

const SPEC = `${specHead('viphold')}  hosts: [{ name: pve1 }]
network:
  mode: dhcp
  cidr: 127.2.9.0/24
  vip: 127.2.9.5
controlPlane: { cores: 2, memory: 2GiB, disk: 10GiB }
`;

test('C7/S11 + --record: with DHCP and a VIP, the node address is its own lease, not the VIP its eth0 also carries; cni0/flannel.1 are ignored', async () => {
  const h = await harness(SPEC);
  const px = h.proxmox();
  try {
    const r = await h.run(['apply', '--yes', '--record', 'apply-transcript.json']);
    assert.equal(r.code, 0, r.stderr);
    // The transcript of the whole apply carries no secret, token, key, address or name of the run.
    const transcript = readFileSync(join(h.dir, 'apply-transcript.json'), 'utf8');
    const ageKey = /AGE-SECRET-KEY-1[0-9A-Z]+/.exec(readFileSync(join(h.dir, 'age-key.txt'), 'utf8'))![0];
    const kubeconfig = await readSecretFile(join(h.dir, KUBECONFIG_FILE), h.env);
    const kubeKey = /client-key-data: (\S+)/.exec(kubeconfig)![1]!;
    for (const s of [h.env.CLOUDLAB_PROXMOX_TOKEN_SECRET!, h.env.CLOUDLAB_PROXMOX_TOKEN_ID!, ageKey, kubeKey, kubeKey.slice(0, 40), 'viphold', '127.2.9.', 'BEGIN', h.env.CLOUDLAB_PROXMOX_FINGERPRINT!]) {
      assert.ok(!transcript.includes(s), `the apply transcript must not contain ${s.slice(0, 24)}…`);
    }
    const t = JSON.parse(transcript) as { exchanges: { api: string; rpc?: string }[] };
    assert.ok(t.exchanges.some((e) => e.api === 'talos' && /MachineService\/ApplyConfiguration/.test(e.rpc ?? '')), 'Talos calls are recorded');
    // What the simulated agent reports on the VIP holder (the behaviour this test pins).
    const ifs = (await px.agentNetworkInterfaces('pve1', 401)).result;
    const eth0 = ifs.find((i) => i.name === 'eth0')!;
    const v4 = (eth0['ip-addresses'] ?? []).filter((a) => a['ip-address-type'] === 'ipv4').map((a) => `${a['ip-address']}/${a.prefix}`);
    assert.equal(v4[0], '127.2.9.5/32', `the VIP is on eth0 of the holder: ${v4.join(', ')}`);
    assert.match(v4[1] ?? '', /^127\.2\.9\.\d+\/24$/);
    assert.deepEqual(ifs.map((i) => i.name).filter((n) => n !== 'lo' && n !== 'eth0').map((n) => n.replace(/^veth.*/, 'veth*')), ['flannel.1', 'cni0', 'veth*']);
    const lease = v4[1]!.split('/')[0]!;

    const st = JSON.parse((await h.run(['status', '--json'])).stdout) as { nodes: { name: string; address: string }[] };
    assert.deepEqual(st.nodes.map((n) => [n.name, n.address]), [['viphold-cp-1', lease]]);
    const again = await h.run(['apply', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /no changes/);
  } finally {
    await px.close();
    await h.close();
  }
});
