// Day-1 changes through the same path: adding a worker, changing CPU/memory (in place, reboot reported),
// growing a disk, changing a config patch (applied without a reboot); dropping a node removes it, the plan saying
// so first (scale-down: docs/etcd.md); an unmanaged VM on a planned VMID is an error that names it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { harness, specHead } from './support.js';

const SPEC = `${specHead('dayone', 'v1.13.2')}  hosts: [{ name: pve1 }]
network:
  cidr: 127.0.27.0/24
  gateway: 127.0.27.1
controlPlane:
  cores: 2
  memory: 4GiB
  disk: 20GiB
workers:
  - count: 1
    cores: 2
    memory: 4GiB
    disk: 20GiB
`;

test('adding a worker, resizing CPU/memory/disk and changing a patch converge in place; dropping a node removes it', async () => {
  const h = await harness(SPEC);
  const px = h.proxmox();
  try {
    assert.equal((await h.run(['apply', '--yes'])).code, 0);

    // Grow: one more worker, more CPU and memory, a bigger disk, and a sysctl patch.
    const grown = SPEC.replace('  - count: 1\n    cores: 2\n    memory: 4GiB\n    disk: 20GiB', '  - count: 2\n    cores: 4\n    memory: 6GiB\n    disk: 30GiB') + 'patches:\n  worker:\n    - machine:\n        sysctls:\n          vm.max_map_count: "262144"\n';
    writeFileSync(h.spec, grown);
    const plan = await h.run(['plan', '--json', '--detailed-exitcode']);
    assert.equal(plan.code, 2, plan.stderr);
    const p = JSON.parse(plan.stdout) as { nodes: { name: string; action: string; changes?: { field: string; needsReboot: boolean }[] }[]; steps: { id: string }[] };
    assert.deepEqual(p.nodes.map((n) => [n.name, n.action]), [['dayone-cp-1', 'noop'], ['dayone-worker-1', 'update'], ['dayone-worker-2', 'create']]);
    assert.deepEqual(p.nodes[1]!.changes!.map((c) => `${c.field}:${c.needsReboot}`).sort(), ['cores:true', 'disk:false', 'memory:true']);
    assert.ok(p.steps.some((s) => s.id === 'config:dayone-worker-1'), 'the patch change shows as a config step');

    const before = h.requestCount();
    const r = await h.run(['apply', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1 created, 1 updated/);
    assert.match(r.stderr, /reboot needed for dayone-worker-1/);
    const writes = h.writes(before).map((w) => `${w.method} ${w.path}`);
    assert.ok(writes.some((w) => /^PUT .*\/qemu\/501\/resize$/.test(w)), 'disk grown in place');
    assert.ok(!writes.some((w) => /^DELETE .*\/qemu\/501/.test(w)), 'the worker VM was not recreated');
    const cfg = await px.vmConfig('pve1', 501);
    assert.equal(Number(cfg.cores), 4);
    assert.equal(Number(cfg.memory), 6144);
    assert.match(String(cfg.scsi0), /size=30G/);
    assert.equal((await h.kubeNodes()).filter((n) => n.ready).length, 3);

    const st = JSON.parse((await h.run(['status', '--json'])).stdout) as { drift: string[] };
    assert.ok(st.drift.some((d) => /dayone-worker-1: CPU\/memory change pending until reboot/.test(d)), st.drift.join('; '));

    // Shrink back to one worker: the plan shows the removal and its steps, and apply removes it.
    writeFileSync(h.spec, readFileSync(h.spec, 'utf8').replace('  - count: 2', '  - count: 1'));
    const shrinkPlan = await h.run(['plan']);
    assert.match(shrinkPlan.stdout, /- remove\s+dayone-worker-2 \(VMID 502 on pve1\)/);
    assert.match(shrinkPlan.stdout, /\+ remove dayone-worker-2: cordon and drain .* → stop the VM → delete the Kubernetes Node → delete the VM with its disks/);
    assert.ok(await px.findVm(502), 'plan changes nothing');
    const shrunk = await h.run(['apply', '--yes']);
    assert.equal(shrunk.code, 0, shrunk.stderr + shrunk.stdout);
    assert.equal(await px.findVm(502), null, 'the worker VM is gone with its disks');

    // An unmanaged VM sitting on a planned VMID is an error that names it; it is never touched.
    writeFileSync(h.spec, readFileSync(h.spec, 'utf8').replace('  - count: 1', '  - count: 3'));
    await px.createVm('pve1', { vmid: 503, name: 'someone-elses', cores: 1, memory: 512 });
    const clash = await h.run(['plan']);
    assert.equal(clash.code, 2);
    assert.match(clash.stderr, /VMID 503 planned for dayone-worker-3 is taken by an unmanaged VM "someone-elses" on pve1/);
  } finally {
    await px.close();
    await h.close();
  }
});
