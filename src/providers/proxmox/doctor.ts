// Owns `cloudlab doctor` as a library: checks a Proxmox endpoint against what a spec needs — reachability,
// TLS trust, token validity, version, privileges (naming the missing ones and the role to create), nodes,
// storages and content types, the bridge, and node capacity versus the plan. Each check passes or says how to fix it.
// The reads go out together (three round trips, not one per path and node); the checks are reported in one order.
import { CloudlabError } from '../../core/errors.js';
import type { ProxmoxClient } from './client.js';
import { ProxmoxApiError } from './errors.js';
import { CLOUDLAB_ROLE, requiredPrivileges, roleCommands, type ProxmoxOperation } from './privileges.js';
import { probeCertificate } from './transport.js';
import { unmetVersionNeeds } from './versions.js';
import type { NetworkInterface, PveVersion, StorageInfo } from './types.js';

export interface DoctorInput {
  nodes: string[];
  storages: { vm: string; images: string };
  bridge: string;
  vlan?: number | null;
  needs: { cores: number; memoryMiB: number; diskGiB: number; byHost: Record<string, { cores: number; memoryMiB: number }> };
  operations: ProxmoxOperation[];
  /** Resource pool used as the cluster lock (checked with operation `lock`). */
  lockPool?: string;
}

export interface DoctorCheck {
  id: string;
  title: string;
  ok: boolean;
  severity: 'error' | 'warning';
  detail: string;
  fix?: string;
}

export interface DoctorReport {
  checks: DoctorCheck[];
}

const GiB = 1024 ** 3;
const FILE_STORAGE_TYPES = ['dir', 'nfs', 'cifs', 'cephfs', 'btrfs', 'glusterfs'];
const MiB = 1024 ** 2;

export async function runDoctor(client: ProxmoxClient, input: DoctorInput): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  const add = (c: DoctorCheck): void => {
    checks.push(c);
  };
  const ok = (id: string, title: string, detail: string): void => add({ id, title, ok: true, severity: 'error', detail });
  const fail = (id: string, title: string, detail: string, fix?: string, severity: 'error' | 'warning' = 'error'): void => add({ id, title, ok: false, severity, detail, ...(fix ? { fix } : {}) });

  // Once a request got through, how the certificate was trusted (insecure is a warning, whatever the token did).
  const trustCheck = async (): Promise<void> => {
    const mode = client.trustMode;
    if (mode === 'insecure') fail('tls', 'TLS trust', 'certificate verification is disabled (tls.insecure)', `Pin the certificate instead: tls.fingerprint = ${await probeCertificate(client.endpoint).then((c) => c.fingerprint).catch(() => '<see pvenode cert info>')}`, 'warning');
    else ok('tls', 'TLS trust', mode === 'pinned' ? 'the certificate matches the pinned SHA-256 fingerprint' : mode === 'ca' ? 'the certificate is signed by the configured CA' : 'the certificate is trusted by the system CAs');
  };

  // Reachability, TLS and token all show in the first call.
  let version: PveVersion | null = null;
  try {
    version = await client.version();
    ok('reachable', 'Proxmox API reachable', `${client.endpoint} answered`);
    await trustCheck();
    ok('token', 'API token valid', `token ${client.tokenId} accepted`);
  } catch (e) {
    const err = e instanceof CloudlabError ? e : new CloudlabError({ code: 'PROXMOX_UNREACHABLE', message: String(e) });
    if (err instanceof ProxmoxApiError && err.status === 401) {
      ok('reachable', 'Proxmox API reachable', `${client.endpoint} answered`);
      await trustCheck();
      fail('token', 'API token valid', `the server rejected token ${client.tokenId} (401 ${err.proxmoxMessage})`, err.hint);
    } else if (/^PROXMOX_TLS/.test(err.code)) {
      ok('reachable', 'Proxmox API reachable', `${client.endpoint} accepts connections`);
      fail('tls', 'TLS trust', err.message, err.hint);
    } else {
      fail('reachable', 'Proxmox API reachable', err.message, err.hint);
    }
    return { checks };
  }

  const major = Number(version.version.split('.')[0]);
  const unmet = unmetVersionNeeds(version.version, input.operations);
  if (major !== 8 && major !== 9) fail('version', 'Proxmox VE version', `${version.version} is not a tested release`, 'cloudlab supports Proxmox VE 8.x and 9.x; upgrade the cluster.', major > 9 ? 'warning' : 'error');
  else if (unmet.length) {
    const min = unmet[0]!.min;
    const usesImage = unmet.some((u) => u.op === 'download');
    fail('version', 'Proxmox VE version', `${version.version} is older than ${min}, the minimum for what this plan does: ${unmet.map((u) => `${u.why}`).join('; ')}`,
      `Upgrade the cluster to Proxmox VE ${min} or later${usesImage ? ' (or create the VMs from a template with vm.template, which needs no image download; minimum 8.1)' : ''}.`);
  } else ok('version', 'Proxmox VE version', `${version.version} (supported: 8.4+ for image downloads, 8.1+ with vm.template, 9.x)`);

  // An SDN VNet named like the bridge (C6): its ACL path is its zone's, and it exists on every node. The list shows
  // only VNets the token may audit (SDN.Audit, in cloudlab's role).
  // The node list is asked alongside (the per-node reads below wait for both); every later read goes out at once.
  const nodeList = settle(client.nodes());
  const vnet = await client.sdnVnets().then((l) => l.find((v) => v.vnet === input.bridge) ?? null).catch(() => null);
  const sdnZone = vnet?.zone ?? 'localnetwork';

  // Privileges.
  const needs = requiredPrivileges(input.operations, { nodes: input.nodes, storages: input.storages, bridge: input.bridge, vlan: input.vlan, pveMajor: major, sdnZone, ...(input.lockPool ? { lockPool: input.lockPool } : {}) });
  const paths = [...new Set(needs.flatMap((n) => [n.path, ...(n.alt ? [n.alt.path] : [])]))].sort();
  // One call per path: without `path` Proxmox lists only the paths that carry an ACL or are top-level
  // (RPCEnvironment::get_effective_permissions), so a path it leaves out could not be told from one it denies.
  const perms = paths.map((p) => settle(client.permissions({ path: p })));
  const listed = await nodeList;
  const nodeNames = listed.ok ? listed.value.map((n) => n.node) : [];
  const nodes = input.nodes.filter((n) => nodeNames.includes(n));
  const storageReads = nodes.map((n) => settle(client.storages(n)));
  const networkReads = (vnet ? [] : nodes).map((n) => settle(client.networks(n)));
  const capacityHosts = Object.entries(input.needs.byHost).sort().filter(([host]) => nodes.includes(host));
  const statusReads = capacityHosts.map(([host]) => settle(client.nodeStatus(host)));
  const have = new Map<string, Set<string>>();
  let permError: string | null = null;
  for (const [i, p] of paths.entries()) {
    const r = await perms[i]!;
    if (!r.ok) {
      permError = r.error instanceof Error ? r.error.message : String(r.error);
      break;
    }
    have.set(p, new Set(Object.keys(r.value[p] ?? {})));
  }
  if (permError) {
    fail('privileges', 'Token privileges', `could not read the token's permissions: ${permError}`);
  } else {
    const missing: string[] = [];
    for (const n of needs) {
      const got = have.get(n.path) ?? new Set<string>();
      const lack = n.privs.filter((p) => !got.has(p));
      if (!lack.length) continue;
      if (n.alt && n.alt.privs.every((p) => have.get(n.alt!.path)?.has(p))) continue;
      for (const l of lack) missing.push(`${l} on ${n.path} (${n.why})`);
    }
    const uniq = [...new Set(missing)].sort();
    if (!uniq.length) ok('privileges', 'Token privileges', `the token holds every privilege for: ${input.operations.join(', ') || 'read-only use'}`);
    else fail('privileges', 'Token privileges', `missing: ${uniq.join('; ')}`, `Create cloudlab's role and grant it to the token (as root on a Proxmox node): ${roleCommands(client.tokenId, major).join(' && ')}. With privilege separation the token's ACL must grant it, not only the user's.`);
  }

  // Nodes.
  if (listed.ok) {
    const list = listed.value;
    const missing = input.nodes.filter((n) => !nodeNames.includes(n));
    const offline = list.filter((n) => input.nodes.includes(n.node) && n.status !== 'online').map((n) => n.node);
    if (missing.length) fail('nodes', 'Nodes exist', `not in the cluster: ${missing.join(', ')} (cluster has ${nodeNames.join(', ')})`, 'Fix the node names in the spec (they are the names under Datacenter in the Proxmox UI).');
    else if (offline.length) fail('nodes', 'Nodes online', `offline: ${offline.join(', ')}`, 'Bring the nodes back online or remove them from the placement.');
    else ok('nodes', 'Nodes exist and are online', input.nodes.join(', '));
  } else {
    fail('nodes', 'Nodes exist', (listed.error as Error).message);
  }

  // Storages and content types. Each problem carries its own fix: `pvesm set --content` replaces the whole
  // list, so the command keeps the types the storage already has.
  const storageIssues: string[] = [];
  const storageFixes = new Set<string>();
  const addContent = (s: StorageInfo, type: string): string => `\`pvesm set ${s.storage} --content ${[...s.content.split(',').filter(Boolean), type].join(',')}\` (or Datacenter → Storage → Edit → Content)`;
  const vmAvail: number[] = [];
  for (const [i, node] of nodes.entries()) {
    const read = await storageReads[i]!;
    if (!read.ok) {
      storageIssues.push(`${node}: ${(read.error as Error).message}`);
      continue;
    }
    const list: StorageInfo[] = read.value;
    const vm = list.find((s) => s.storage === input.storages.vm);
    const img = list.find((s) => s.storage === input.storages.images);
    const missingFix = (id: string): string => `Storage '${id}' must be enabled on every node cloudlab uses and visible to the token (Datastore.Audit or Datastore.AllocateSpace on /storage/${id}); \`pvesm status\` on ${node} lists the storages there.`;
    if (!vm) {
      storageIssues.push(`${node}: storage '${input.storages.vm}' is missing or not visible to the token`);
      storageFixes.add(missingFix(input.storages.vm));
    } else {
      if (!vm.content.split(',').includes('images')) {
        storageIssues.push(`${node}: storage '${input.storages.vm}' has content '${vm.content}' without 'images' (VM disks)`);
        storageFixes.add(`Allow VM disks on '${vm.storage}': ${addContent(vm, 'images')}.`);
      }
      vmAvail.push(vm.avail ?? 0);
    }
    if (!img) {
      storageIssues.push(`${node}: storage '${input.storages.images}' is missing or not visible to the token`);
      storageFixes.add(missingFix(input.storages.images));
    } else if (input.operations.includes('download') && !FILE_STORAGE_TYPES.includes(img.type)) {
      storageIssues.push(`${node}: storage '${input.storages.images}' is of type '${img.type}', but download-url needs a file-based storage (dir, nfs, cifs, cephfs, btrfs)`);
      storageFixes.add(`A '${img.type}' storage cannot hold downloaded images: point the image storage at a file-based storage with the 'import' content type (e.g. 'local').`);
    } else if (input.operations.includes('download') && !img.content.split(',').includes('import')) {
      storageIssues.push(`${node}: storage '${input.storages.images}' has content '${img.content}' without 'import' (disk images for import-from)`);
      storageFixes.add(`Allow disk images for import on '${img.storage}': ${addContent(img, 'import')}.`);
    }
  }
  if (storageIssues.length) fail('storages', 'Storages and content types', storageIssues.join('; '), [...storageFixes].join(' '));
  else if (nodes.length) ok('storages', 'Storages and content types', `${input.storages.vm} holds images, ${input.storages.images} holds ${input.operations.includes('download') ? 'import' : 'files'} on ${nodes.join(', ')}`);

  // Bridge.
  const bridgeIssues: string[] = [];
  for (const [i, node] of (vnet ? [] : nodes).entries()) {
    const read = await networkReads[i]!;
    if (!read.ok) {
      bridgeIssues.push(`${node}: ${(read.error as Error).message}`);
      continue;
    }
    const nets: NetworkInterface[] = read.value;
    const br = nets.filter((n) => /bridge/i.test(n.type));
    if (!br.some((n) => n.iface === input.bridge)) bridgeIssues.push(`${node}: no bridge '${input.bridge}' (has ${br.map((n) => n.iface).join(', ') || 'none'})`);
  }
  if (bridgeIssues.length) fail('bridge', `Bridge ${input.bridge}`, bridgeIssues.join('; '), 'Use an existing bridge name in the spec (see System → Network on each node), or create the bridge on every node.');
  else if (vnet) ok('bridge', `Bridge ${input.bridge}`, `SDN VNet ${input.bridge} in zone ${sdnZone} (available on every node)`);
  else if (nodes.length) ok('bridge', `Bridge ${input.bridge}`, `present on ${nodes.join(', ')}`);

  // Capacity.
  const capIssues: string[] = [];
  const capWarn: string[] = [];
  // A node status that could not be read is not a capacity shortfall: its fix is the error's own (D15b).
  const capReadFixes = new Set<string>();
  let capShort = false;
  for (const [i, [host, need]] of capacityHosts.entries()) {
    const read = await statusReads[i]!;
    if (read.ok) {
      const st = read.value;
      const freeMiB = Math.floor((st.memory.total - st.memory.used) / MiB);
      if (need.memoryMiB > freeMiB) {
        capIssues.push(`${host}: needs ${need.memoryMiB} MiB memory, ${freeMiB} MiB free`);
        capShort = true;
      }
      if (need.cores > st.cpuinfo.cpus) capWarn.push(`${host}: needs ${need.cores} vCPUs, has ${st.cpuinfo.cpus} CPUs (overcommitted)`);
    } else {
      const e = read.error;
      capIssues.push(`${host}: cannot read the node status: ${(e as Error).message}`);
      capReadFixes.add((e as { hint?: string }).hint ?? `check that ${host} is online and run again`);
    }
  }
  const avail = vmAvail.length ? Math.min(...vmAvail) : 0;
  if (vmAvail.length && input.needs.diskGiB * GiB > avail * nodes.length) {
    capIssues.push(`storage '${input.storages.vm}': needs ${input.needs.diskGiB} GiB, ${Math.floor(avail / GiB)} GiB free per node`);
    capShort = true;
  }
  const capFix = [...capReadFixes, ...(capShort ? ['Reduce memory/disk in the spec, spread VMs over more nodes, or free capacity on the hosts.'] : [])].join(' ');
  if (capIssues.length) fail('capacity', 'Node capacity versus the plan', capIssues.join('; '), capFix);
  else if (capWarn.length) fail('capacity', 'Node capacity versus the plan', capWarn.join('; '), 'CPU overcommit works but slows nodes down; reduce cores or add nodes.', 'warning');
  else ok('capacity', 'Node capacity versus the plan', `${input.needs.cores} vCPUs, ${input.needs.memoryMiB} MiB memory, ${input.needs.diskGiB} GiB disk fit`);

  return { checks };
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A read started now and awaited later, in the report's order: its failure is a value (no unhandled rejection). */
function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));
}

/** True when no error-severity check failed. */
export function doctorPassed(r: DoctorReport): boolean {
  return r.checks.every((c) => c.ok || c.severity === 'warning');
}

export { CLOUDLAB_ROLE };
