// C3: on a DHCP cluster the talosconfig lists every control plane's discovered address (written by the outputs step
// once every address is known, not when the first node was configured), and a re-apply keeps it byte for byte: the
// client certificate is reused while valid, whatever the address list was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { harness, specHead } from './support.js';
import { readSecretFile } from '../../src/sops/index.js';
import { TALOSCONFIG_FILE } from '../../src/clusterdir/index.js';
import { parseTalosconfig } from '../../src/render/talos/talosconfig.js';

test('C3: DHCP: the talosconfig lists every control plane address, and a re-apply leaves it unchanged', async () => {
  const h = await harness(`${specHead('dhcpcfg', 'v1.13.9')}  hosts: [{ name: pve1 }]
network:
  mode: dhcp
  cidr: 127.3.40.0/24
controlPlane:
  count: 3
  cores: 2
  memory: 2GiB
`);
  try {
    const r = await h.run(['apply', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    const file = join(h.dir, TALOSCONFIG_FILE);
    const ctx = parseTalosconfig(await readSecretFile(file, h.env)).contexts.dhcpcfg!;
    const st = JSON.parse((await h.run(['status', '--json'])).stdout) as { nodes: { name: string; address: string }[] };
    const addresses = st.nodes.map((n) => n.address).sort();
    assert.equal(addresses.length, 3);
    assert.deepEqual([...ctx.endpoints].sort(), addresses, 'every control plane is an endpoint');
    const before = readFileSync(file, 'utf8');
    const again = await h.run(['apply', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(readFileSync(file, 'utf8'), before, 'the encrypted talosconfig is not rewritten');
  } finally {
    await h.close();
  }
});
