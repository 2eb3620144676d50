// The simulators are as strict as upstream where cloudlab's safety depends on it: a privilege-separated token is
// its own principal (pve-access-control src/PVE/RPCEnvironment.pm, 'userid-param' 'self' compares the
// authenticated id, which for a token is `user@realm!name`; src/PVE/API2/User.pm generate_token falls back to
// User.Modify), and deleting a VM deletes what was installed on its disks (a new VM there boots blank).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProxmoxApiError } from '../../src/providers/proxmox/errors.js';
import { ProxmoxClient } from '../../src/providers/proxmox/client.js';
import { FAST_TIMING, clientFor, fastSim } from '../proxmox/support.js';
import { harness, specHead } from '../e2e/support.js';

test('D5: a privilege-separated token without rights cannot mint a token for its user (403), a user-level token can', async () => {
  const sim = await fastSim();
  const root = clientFor(sim);
  try {
    const tok = await root.createToken('root@pam', 'limited', { privsep: true });
    const limited = new ProxmoxClient({ endpoint: sim.endpoint, tokenId: tok.tokenId, tokenSecret: tok.secret, tls: { fingerprint: sim.fingerprint }, timing: FAST_TIMING });
    try {
      await assert.rejects(() => limited.createToken('root@pam', 'esc', { privsep: false }), (e: unknown) => {
        assert.ok(e instanceof ProxmoxApiError, String(e));
        assert.equal(e.status, 403);
        return true;
      });
      const tokens = sim.state.access.tokens;
      assert.ok(!tokens.has('root@pam!esc'), 'no token was minted');
    } finally {
      await limited.close();
    }
    // The control: the simulator's own token is not privilege-separated, so it holds root@pam's User.Modify.
    const ok = await root.createToken('root@pam', 'other', { privsep: true });
    assert.equal(ok.tokenId, 'root@pam!other');
  } finally {
    await root.close();
    await sim.close();
  }
});

test('D6: destroy then apply in one simulated world bootstraps a new cluster on blank nodes', async () => {
  const h = await harness(`${specHead('d6own')}  hosts: [{ name: pve1 }]
network:
  cidr: 127.4.6.0/24
  gateway: 127.4.6.1
controlPlane: { cores: 2, memory: 2GiB, disk: 10GiB }
`);
  try {
    const first = await h.run(['apply', '--yes']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /bootstrapped/);
    const d = await h.run(['destroy', '--yes']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(h.world.talos.allNodes().length, 0, 'the deleted VM took its Talos node with it');
    const again = await h.run(['apply', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /config up to date|already bootstrapped/);
    assert.match(again.stdout, /1 created.*bootstrapped/);
    assert.equal(h.world.talos.bootstrapCalls().accepted, 2, 'one bootstrap per cluster lifetime');
  } finally {
    await h.close();
  }
});
