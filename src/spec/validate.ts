// Owns the spec's cross-field rules (the ones a schema cannot express): HA shape, addressing, VMID ranges,
// names, placement pins, patch targets, version pairs, TLS trust. Returns every problem, located.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Problem } from '../core/errors.js';
import { deriveIdentities, type NodeIdentity } from './identities.js';
import { broadcastAddress, cidrContains, hasHostBits, networkAddress, parseCidr, usableRange, ipToInt } from './addressing.js';
import { checkVersions, talosMinor } from './versions.js';
import { OFFICIAL_EXTENSIONS } from './official-extensions.js';
import { reservedTagReason } from './tags.js';
import { checkPlatform } from './validate-platform.js';
import { type PathSegment } from './source.js';
import { didYouMean } from '../core/suggest.js';
import type { LoadedSpec } from './loaded.js';

const VMID_MIN = 100;
const VMID_MAX = 999_999_999;
const PATCH_FORMS_HINT = 'a patch is a file path, { jsonPatch: [...] }, or an inline mapping such as { machine: { ... } }';

export interface ValidateOptions {
  /** `--allow-even-control-planes`: an even control-plane count (e.g. 3 → 2 on the way down) is accepted. */
  allowEvenControlPlanes?: boolean;
}

/** The flag that accepts an even control-plane count (named in the problem's hint). */
export const EVEN_CONTROL_PLANES_FLAG = '--allow-even-control-planes';

export function validateSpec(loaded: LoadedSpec, opts: ValidateOptions = {}): Problem[] {
  const { spec, source } = loaded;
  const problems: Problem[] = [];
  const add = (path: PathSegment[], message: string, hint?: string, key = false): void => {
    problems.push(source.problem(path, message, hint, { key }));
  };

  // Versions against the support matrix.
  const vc = checkVersions(spec.versions.talos, spec.versions.kubernetes);
  if (!vc.ok) add(['versions', vc.field ?? 'talos'], vc.message!, vc.hint);

  // Control-plane shape.
  const cp = spec.controlPlane;
  const ha = cp.ha ?? cp.count > 1;
  const even = cp.count % 2 === 0;
  const evenHint = `use ${cp.count - 1} or ${cp.count + 1}: etcd needs a majority, so an even count tolerates no more failures than one fewer; to run ${cp.count} anyway (e.g. 3 → 2 on the way down), pass ${EVEN_CONTROL_PLANES_FLAG} to plan and apply`;
  if (even && !opts.allowEvenControlPlanes) {
    if (ha) add(['controlPlane', 'count'], `HA needs an odd number of control planes, at least 3 (got ${cp.count})`, evenHint);
    else add(['controlPlane', 'count'], `${cp.count} control planes: an even etcd membership tolerates no more failures than ${cp.count - 1}`, evenHint);
  } else if (ha && cp.count < 2) {
    add(['controlPlane', 'count'], `HA needs an odd number of control planes, at least 3 (got ${cp.count})`, 'use count: 3, or count: 1 without ha for a single control plane');
  }
  if (cp.nodes.length > cp.count) add(['controlPlane', 'nodes'], `${cp.nodes.length} node entries but count is ${cp.count}`, 'remove the extra entries or raise count');
  spec.workers.forEach((pool, p) => {
    if (pool.nodes.length > pool.count) add(['workers', p, 'nodes'], `${pool.nodes.length} node entries but count is ${pool.count}`, 'remove the extra entries or raise count');
  });

  // Memory floors Talos documents (control plane 2 GiB, worker 1 GiB).
  if (cp.memory < 2048) add(['controlPlane', 'memory'], `${cp.memory} MiB is below the Talos minimum of 2048 MiB for a control plane`, 'use at least 2GiB (4GiB recommended)');
  spec.workers.forEach((pool, p) => {
    if (pool.memory < 1024) add(['workers', p, 'memory'], `${pool.memory} MiB is below the Talos minimum of 1024 MiB for a worker`, 'use at least 1GiB (2GiB recommended)');
  });
  if (cp.disk < 10) add(['controlPlane', 'disk'], `${cp.disk} GiB is below the Talos minimum of 10 GiB`, 'use at least 10GiB');
  spec.workers.forEach((pool, p) => {
    if (pool.disk < 10) add(['workers', p, 'disk'], `${pool.disk} GiB is below the Talos minimum of 10 GiB`, 'use at least 10GiB');
  });

  // Unique pool names.
  const poolNames = new Map<string, number>();
  spec.workers.forEach((pool, p) => {
    if (pool.name === 'controlplane' || pool.name === 'cp') add(['workers', p, 'name'], `pool name "${pool.name}" is reserved for the control plane`, 'choose another pool name');
    const prev = poolNames.get(pool.name);
    if (prev !== undefined) add(['workers', p, 'name'], `pool name "${pool.name}" is already used by workers[${prev}]`, 'give each pool its own name');
    else poolNames.set(pool.name, p);
  });

  // Hosts.
  const hostNames = spec.proxmox.hosts.map((h) => h.name);
  const seenHost = new Set<string>();
  spec.proxmox.hosts.forEach((h, i) => {
    if (seenHost.has(h.name)) add(['proxmox', 'hosts', i, 'name'], `host "${h.name}" is listed twice`, 'list each Proxmox node once');
    seenHost.add(h.name);
  });

  // TLS trust.
  const tls = spec.proxmox.tls;
  if (tls.insecure && (tls.caFile || tls.fingerprint)) add(['proxmox', 'tls', 'insecure'], 'insecure: true cannot be combined with caFile or fingerprint', 'keep the CA file or fingerprint and drop insecure (verification is better)');
  if (spec.proxmox.tokenSecret.fromEnv && spec.proxmox.tokenSecret.fromSecret) add(['proxmox', 'tokenSecret'], 'give either fromSecret or fromEnv, not both');

  const ids = deriveIdentities(spec);
  checkNames(ids, spec.name, add);
  checkVmids(ids, spec, add);
  checkAddresses(ids, loaded, add);
  checkPlacement(ids, hostNames, spec.placement.strategy, add);
  checkPatches(loaded, ids, add);
  checkPlatform(spec, add);

  // Extension services need their extension.
  if (spec.extensionServices.tailscale && !spec.image.extensions.includes('siderolabs/tailscale')) {
    add(['extensionServices', 'tailscale'], 'tailscale is configured but the image does not include the siderolabs/tailscale extension', 'add siderolabs/tailscale to image.extensions');
  }
  // A4: metal + static boots a per-node image (META key 10 carries the address); a template clone cannot.
  if (spec.image.platform === 'metal' && spec.network.mode === 'static' && spec.vm.template) {
    add(['vm', 'template'], 'a metal image reads no cloud-init drive, so static addresses need each node to boot its own image (META key 10), which a cloned template cannot provide', 'remove vm.template (cloudlab imports a per-node image), or use image.platform: nocloud');
  }
  // A5: Secure Boot. Talos Secure Boot disk images do not enroll Sidero's keys (only the ISO does, in setup mode:
  // talos pkg/imager/iso/uefi.go loader/keys/auto; every other output sets SDBootSecureBootEnrollKeys "off",
  // pkg/imager/out.go), and PVE's pre-enrolled-keys=1 enrolls Microsoft's keys only, so the firmware refuses the
  // Sidero-signed bootloader. cloudlab imports disk images, so it refuses the spec rather than create VMs that never boot.
  if (spec.image.secureBoot) {
    add(
      ['image', 'secureBoot'],
      'Secure Boot cannot work with the imported disk image cloudlab provisions: the firmware (pre-enrolled Microsoft keys) refuses the Sidero-signed bootloader, and Talos enrolls its keys only when booted from the Secure Boot ISO in setup mode',
      'remove image.secureBoot (or set it to false); for Secure Boot, install from the factory\'s secureboot ISO by hand as talos.dev documents for Proxmox',
    );
  }
  // Ownership tags are cloudlab's: a spec that sets cluster-<other> would hand its VMs to another cluster (D3).
  spec.vm.tags.forEach((t, i) => {
    const why = reservedTagReason(t);
    if (why) add(['vm', 'tags', i], `tag "${t}" is reserved: ${why}`, 'remove it from vm.tags; cloudlab adds cloudlab, cluster-<name>, role-<role> and pool-<pool> itself');
  });
  const seenExt = new Set<string>();
  const minor = talosMinor(spec.versions.talos)?.minor;
  const official = minor ? OFFICIAL_EXTENSIONS[minor] : undefined;
  spec.image.extensions.forEach((e, i) => {
    if (seenExt.has(e)) add(['image', 'extensions', i], `extension "${e}" is listed twice`, 'list each extension once');
    seenExt.add(e);
    // The factory would refuse the image (HTTP 400) only once Proxmox downloads it: catch it before anything exists.
    if (official && !official.includes(e)) {
      const guess = didYouMean(e, official);
      add(
        ['image', 'extensions', i],
        `unknown official extension ${e} for Talos ${minor}${guess ? ` (did you mean ${guess}?)` : ''}`,
        guess ? `use ${guess}` : `use a name from the official list of Talos ${minor} (https://github.com/siderolabs/extensions, branch release-${minor})`,
      );
    }
  });
  if (spec.network.mode === 'dhcp' && !spec.image.extensions.includes('siderolabs/qemu-guest-agent')) {
    add(['image', 'extensions'], 'DHCP addressing needs the siderolabs/qemu-guest-agent extension: addresses are discovered through the guest agent', 'add siderolabs/qemu-guest-agent to image.extensions, or use network.mode: static');
  }
  return problems;
}

type Add = (path: PathSegment[], message: string, hint?: string, key?: boolean) => void;

function checkNames(ids: NodeIdentity[], cluster: string, add: Add): void {
  const seen = new Map<string, NodeIdentity>();
  for (const n of ids) {
    if (n.name.length > 63) add(n.paths.name, `node name "${n.name}" is longer than 63 characters`, `shorten the cluster or pool name (node names are ${cluster}-<pool>-<n>)`);
    const prev = seen.get(n.name);
    if (prev) add(n.paths.name, `node name "${n.name}" is used twice`, 'give the node a distinct name');
    else seen.set(n.name, n);
  }
}

function checkVmids(ids: NodeIdentity[], spec: LoadedSpec['spec'], add: Add): void {
  const seen = new Map<number, NodeIdentity>();
  for (const n of ids) {
    if (n.vmid < VMID_MIN || n.vmid > VMID_MAX) {
      add(n.paths.vmid, `VMID ${n.vmid} of ${n.name} is outside the valid range ${VMID_MIN}..${VMID_MAX}`, 'Proxmox VMIDs start at 100');
      continue;
    }
    const prev = seen.get(n.vmid);
    if (prev) add(n.paths.vmid, `VMID ${n.vmid} of ${n.name} is also the VMID of ${prev.name}: the VMID ranges of ${prev.pool} and ${n.pool} overlap`, 'set vmidBase on one of them so the ranges are disjoint');
    else seen.set(n.vmid, n);
  }
  const tpl = spec.vm.template?.vmid;
  if (tpl !== undefined) {
    if (tpl < VMID_MIN || tpl > VMID_MAX) add(['vm', 'template', 'vmid'], `template VMID ${tpl} is outside ${VMID_MIN}..${VMID_MAX}`);
    const clash = seen.get(tpl);
    if (clash) add(['vm', 'template', 'vmid'], `template VMID ${tpl} is inside the node range (it is ${clash.name}'s VMID)`, 'pick a template VMID outside the node ranges');
  }
}

function checkAddresses(ids: NodeIdentity[], loaded: LoadedSpec, add: Add): void {
  const net = loaded.spec.network;
  if (net.mode === 'dhcp') {
    for (const n of ids) {
      if (n.paths.ip.includes('nodes') && loaded.spec.network.mode === 'dhcp') {
        // explicit ip under dhcp
        const hasIp = n.paths.ip[n.paths.ip.length - 1] === 'ip';
        if (hasIp) add(n.paths.ip, `${n.name} has an explicit ip but network.mode is dhcp`, 'use network.mode: static, or remove the ip (DHCP addresses are discovered through the guest agent)');
      }
    }
    if (net.vip && !net.cidr) add(['network', 'vip'], 'a VIP needs network.cidr to know its subnet', 'add network.cidr (the subnet the DHCP server hands out)');
  } else {
    if (!net.cidr) add(['network'], 'static networking needs network.cidr', 'add cidr: e.g. 10.0.0.0/24, or use mode: dhcp', false);
    if (!net.gateway) add(['network'], 'static networking needs network.gateway', 'add gateway: e.g. 10.0.0.1');
  }
  const cidr = net.cidr ? parseCidr(net.cidr) : null;
  if (net.cidr && !cidr) add(['network', 'cidr'], `"${net.cidr}" is not a valid IPv4 CIDR`, 'write it like 10.0.0.0/24');
  if (net.cidr && cidr && hasHostBits(net.cidr)) add(['network', 'cidr'], `"${net.cidr}" has host bits set`, `did you mean ${networkAddress(cidr)}/${cidr.prefix}?`);
  if (!cidr) return;
  const [lo, hi] = usableRange(cidr);
  const reserved = new Map<string, string>();
  reserved.set(networkAddress(cidr), 'the network address');
  if (cidr.prefix < 31) reserved.set(broadcastAddress(cidr), 'the broadcast address');
  if (net.gateway) {
    if (!cidrContains(cidr, net.gateway)) add(['network', 'gateway'], `gateway ${net.gateway} is outside ${net.cidr}`, 'the gateway must be on the node network');
    else if (reserved.has(net.gateway)) add(['network', 'gateway'], `gateway ${net.gateway} is ${reserved.get(net.gateway)} of ${net.cidr}`);
    reserved.set(net.gateway, 'the gateway');
  }
  if (net.vip) {
    if (!cidrContains(cidr, net.vip)) add(['network', 'vip'], `VIP ${net.vip} is outside ${net.cidr}`, 'a Layer-2 VIP must be on the node network');
    else if (reserved.has(net.vip)) add(['network', 'vip'], `VIP ${net.vip} is ${reserved.get(net.vip)}`, 'pick a free address for the VIP');
  }
  if (net.mode !== 'static') return;
  const seen = new Map<string, string>();
  for (const n of ids) {
    if (n.ip === null) {
      add(n.paths.ip, `${n.name}: offset lands outside ${net.cidr} (only ${cidr.size} addresses)`, 'lower the offset or use a larger network');
      continue;
    }
    if (!cidrContains(cidr, n.ip)) {
      add(n.paths.ip, `${n.name}'s address ${n.ip} is outside ${net.cidr}`, 'every node address must be on the node network');
      continue;
    }
    const off = ipToInt(n.ip) - cidr.network;
    if (reserved.has(n.ip)) add(n.paths.ip, `${n.name}'s address ${n.ip} is ${reserved.get(n.ip)}`, 'move the offset or set an explicit ip');
    else if (off < lo || off > hi) add(n.paths.ip, `${n.name}'s address ${n.ip} is not a usable host address of ${net.cidr}`);
    else if (n.ip === net.vip) add(['network', 'vip'], `VIP ${net.vip} collides with ${n.name}'s address`, 'the VIP must be an address no node uses');
    const prev = seen.get(n.ip);
    if (prev) add(n.paths.ip, `${n.name}'s address ${n.ip} is also ${prev}'s address`, 'address ranges overlap: change an ipOffset or an explicit ip');
    else seen.set(n.ip, n.name);
  }
}

function checkPlacement(ids: NodeIdentity[], hosts: string[], strategy: 'spread' | 'pin', add: Add): void {
  for (const n of ids) {
    if (n.pinnedHost !== null && !hosts.includes(n.pinnedHost)) {
      const guess = didYouMean(n.pinnedHost, hosts);
      add(n.paths.host, `${n.name} is pinned to host "${n.pinnedHost}", which is not in proxmox.hosts`, guess ? `did you mean "${guess}"?` : `known hosts: ${hosts.join(', ')}`);
    }
    if (strategy === 'pin' && n.pinnedHost === null) {
      const nodesPath: PathSegment[] = n.role === 'controlplane' ? ['controlPlane', 'nodes'] : [...n.paths.pool, 'nodes'];
      add(nodesPath, `placement.strategy is pin but ${n.name} names no host`, `add { host: <proxmox node> } for node ${n.index} of ${n.pool}, or use strategy: spread`);
    }
  }
}

function checkPatches(loaded: LoadedSpec, ids: NodeIdentity[], add: Add): void {
  const { spec } = loaded;
  const pools = spec.workers.map((w) => w.name);
  for (const pool of Object.keys(spec.patches.pools)) {
    if (!pools.includes(pool)) {
      const guess = didYouMean(pool, pools);
      add(['patches', 'pools', pool], `patches name pool "${pool}", which does not exist`, guess ? `did you mean "${guess}"?` : pools.length ? `pools: ${pools.join(', ')}` : 'there are no worker pools', true);
    }
  }
  const names = ids.map((n) => n.name);
  for (const node of Object.keys(spec.patches.nodes)) {
    if (!names.includes(node)) {
      const guess = didYouMean(node, names);
      add(['patches', 'nodes', node], `patches name node "${node}", which is not in the plan`, guess ? `did you mean "${guess}"?` : 'node names are <cluster>-cp-<n> and <cluster>-<pool>-<n>', true);
    }
  }
  const lists: [PathSegment[], unknown[]][] = [
    [['patches', 'all'], spec.patches.all],
    [['patches', 'controlplane'], spec.patches.controlplane],
    [['patches', 'worker'], spec.patches.worker],
    ...Object.entries(spec.patches.pools).map(([k, v]): [PathSegment[], unknown[]] => [['patches', 'pools', k], v]),
    ...Object.entries(spec.patches.nodes).map(([k, v]): [PathSegment[], unknown[]] => [['patches', 'nodes', k], v]),
  ];
  for (const [path, list] of lists) {
    list.forEach((p, i) => {
      if (p && typeof p === 'object' && !Array.isArray(p) && Object.keys(p).length === 0) add([...path, i], 'empty patch', PATCH_FORMS_HINT);
      if (typeof p === 'string') {
        const file = resolve(loaded.dir, p);
        if (!existsSync(file)) add([...path, i], `patch file ${p} does not exist (looked for ${file})`, 'patch file paths are relative to the spec file');
        else if (!statSync(file).isFile()) add([...path, i], `patch file ${p} is not a regular file`);
      }
    });
  }
}
