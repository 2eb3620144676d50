// Owns the apply sequence: preflight → image → VMs → addresses → configuration → bootstrap → endpoint →
// health → outputs, as idempotent steps (skipped when done) run by the engine with bounded parallelism.
import { join } from 'node:path';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import type { PlanNode } from '../plan/types.js';
import { resolveAddresses } from '../plan/planner.js';
import { runSteps, type EventSink, type RunResult, type Step } from './engine.js';
import type { Session } from './session.js';
import { clusterBundle, resolveSecretRef, talosCredentials } from './session.js';
import { createParams, cloneUpdateParams, updateParams } from './vm-spec.js';
import { assertOwned } from './ownership.js';
import { pickNodeAddress } from '../providers/proxmox/agent-address.js';
import { applyToConfigured, bootstrapOnce, fetchKubeconfig, isBootstrapped, probeTalos } from './talos-ops.js';
import type { TalosCredentials } from '../providers/talos/client.js';
import type { SecretsBundle } from '../render/talos/secrets.js';

export interface ApplyTimeouts {
  /** VM start → Talos API answering (maintenance or configured). */
  bootMs: number;
  /** Config applied → node back configured (install + reboot). */
  installMs: number;
  /** DHCP address through the guest agent. */
  agentMs: number;
  /** Bootstrap → Kubernetes API answering on the endpoint. */
  endpointMs: number;
  /** All nodes Ready. */
  healthMs: number;
}

export const DEFAULT_TIMEOUTS: ApplyTimeouts = { bootMs: 10 * 60_000, installMs: 15 * 60_000, agentMs: 10 * 60_000, endpointMs: 15 * 60_000, healthMs: 15 * 60_000 };

export interface ApplyOptions {
  dryRun?: boolean;
  signal?: AbortSignal;
  events?: EventSink;
  timeouts?: Partial<ApplyTimeouts>;
  /** Reboot VMs whose CPU/memory change is pending (one at a time). Default: report only. */
  allowReboot?: boolean;
  /** The caller already ran the preflight (before taking the cluster lock). */
  preflightDone?: boolean;
  parallel?: number;
}

export interface ApplySummary extends RunResult {
  created: string[];
  updated: string[];
  rebootPending: string[];
  bootstrapped: boolean;
  outputs: string[];
  /** Nodes that received a config this run (installed from maintenance, or changed in place). */
  configured: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runApply(session: Session, opts: ApplyOptions = {}): Promise<ApplySummary> {
  const t: ApplyTimeouts = { ...DEFAULT_TIMEOUTS, ...(opts.timeouts ?? {}) };
  const { proxmox, env, dir } = session;
  let plan = session.plan;
  const diff = session.diff;
  // Plan (dry-run) shows the nodes that would go; apply refuses until scale-down can leave etcd cleanly.
  if (diff.deletes.length && !opts.dryRun) {
    throw new CloudlabError({
      code: 'SCALE_DOWN_UNSUPPORTED',
      exitCode: EXIT_INVALID,
      message: `the spec drops ${diff.deletes.length} node(s) that exist: ${diff.deletes.map((v) => `${v.name} (VMID ${v.vmid})`).join(', ')}`,
      hint: 'removing nodes is not supported by apply yet (it must leave etcd and Kubernetes cleanly); restore the counts, or use `cloudlab destroy` for the whole cluster',
    });
  }
  const port = session.talosPort;
  const summary: ApplySummary = { ran: [], skipped: [], wouldRun: [], created: [], updated: [], rebootPending: [], bootstrapped: false, outputs: [], configured: [] };

  // Secrets bundle and credentials first: created once (encrypted) before any node learns them.
  let bundle: SecretsBundle | null = null;
  let creds: TalosCredentials | null = null;
  let talosconfigText = '';
  if (!opts.dryRun) {
    const b = await clusterBundle(dir, plan, env, { create: true });
    bundle = b!.bundle;
    if (b!.created) opts.events?.({ type: 'info', message: 'created the cluster secrets bundle (talos-secrets.enc.yaml, SOPS-encrypted)', at: new Date().toISOString() });
  } else {
    const b = await clusterBundle(dir, plan, env, { create: false });
    bundle = b?.bundle ?? null;
  }

  const { schematicId, imageUrls } = await import('../render/image/schematic.js');
  const id = schematicId(plan.image.schematic);
  const urls = imageUrls(plan, id);
  const imageVolid = `${plan.proxmox.imageStorage}:import/${urls.diskFile}`;
  const byName = new Map(diff.actions.map((a) => [a.node.name, a]));
  const addresses = new Map<string, string>();
  for (const n of plan.nodes) if (n.ip) addresses.set(n.name, n.ip);
  const talosState = new Map<string, 'configured' | 'maintenance' | 'unreachable'>();
  const extraSecrets: Record<string, string> = {};
  if (plan.extensionServices.tailscale) {
    const key = await resolveSecretRef(plan.extensionServices.tailscale.authKey, dir, plan.secretsFile, env, 'extensionServices.tailscale.authKey');
    if (!key && !opts.dryRun) throw new CloudlabError({ code: 'SECRET_MISSING', exitCode: EXIT_INVALID, message: `the tailscale auth key (${plan.extensionServices.tailscale.authKey.fromSecret ?? plan.extensionServices.tailscale.authKey.fromEnv}) is not set`, hint: 'run `cloudlab secrets set tailscale.authKey`' });
    if (key) extraSecrets.tailscaleAuthKey = key;
  }

  // Render every node's config once before anything changes: a patch that does not apply fails here, located
  // in the spec, with nothing created. Addresses not known yet (DHCP) get documentation-range placeholders
  // (192.0.2.0/24, never contacted): patches do not depend on them.
  const tailscaleKeyMissing = Boolean(plan.extensionServices.tailscale) && !extraSecrets.tailscaleAuthKey;
  if (bundle && !tailscaleKeyMissing) {
    const { renderNodeConfig } = await import('../render/talos/config.js');
    const { locatePatchError } = await import('../render/commands.js');
    const placeholders = Object.fromEntries(plan.nodes.filter((n) => !n.ip).map((n, i) => [n.name, `192.0.2.${(i % 250) + 1}`]));
    const trial = resolveAddresses(plan, placeholders);
    for (const n of trial.nodes) {
      try {
        await renderNodeConfig(trial, n, bundle, { secrets: extraSecrets });
      } catch (e) {
        throw locatePatchError(e, session.loaded);
      }
    }
  }

  const ensureCreds = async (): Promise<TalosCredentials> => {
    if (creds) return creds;
    const r = await talosCredentials(dir, resolveAddresses(plan, Object.fromEntries(addresses)), bundle!, env);
    creds = r.creds;
    talosconfigText = r.talosconfig;
    return creds;
  };

  const steps: Step[] = [];
  const hostsUsed = [...new Set(plan.nodes.map((n) => n.host))];
  steps.push({
    id: 'preflight',
    title: 'Preflight: Proxmox trust, token privileges, storages, bridge, capacity',
    shouldRun: () => (opts.preflightDone ? 'checked before taking the cluster lock' : true),
    run: async (ctx) => {
      const { preflightReport, preflightError } = await import('./preflight.js');
      const toCreate = diff.actions.filter((a) => a.kind === 'create').map((a) => a.node);
      const report = await preflightReport(proxmox, plan, toCreate);
      for (const c of report.checks) if (!c.ok && c.severity === 'warning') ctx.warn(`${c.title}: ${c.detail}${c.fix ? ` (${c.fix})` : ''}`);
      const err = preflightError(report);
      if (err) throw err;
      return `${report.checks.filter((c) => c.ok).length} checks passed`;
    },
  });

  // Image: once per host (image storage is per host unless shared; a shared storage is downloaded once).
  const sharedImage = await (async () => {
    try {
      const rs = await proxmox.clusterResources('storage');
      return rs.some((r) => r.storage === plan.proxmox.imageStorage && r.shared === 1);
    } catch {
      return false;
    }
  })();
  const imageStepOf = new Map<string, string>();
  const imageHosts = sharedImage ? [hostsUsed[0]!] : hostsUsed;
  const needsImage = (host: string): boolean => plan.vm.template === null && plan.nodes.some((n) => (sharedImage || n.host === host) && byName.get(n.name)?.kind === 'create');
  for (const host of imageHosts) {
    const sid = `image:${host}`;
    for (const h of sharedImage ? hostsUsed : [host]) imageStepOf.set(h, sid);
    steps.push({
      id: sid,
      title: `Image ${urls.diskFile} on ${host}:${plan.proxmox.imageStorage}`,
      after: ['preflight'],
      keys: [`storage:${host}/${plan.proxmox.imageStorage}`],
      shouldRun: () => (needsImage(host) ? true : 'no VM to create from it'),
      describe: () => `download ${urls.disk} to ${host}:${plan.proxmox.imageStorage} (server-side download-url)`,
      run: async (ctx) => {
        // Verified by size against what the URL serves (the factory publishes no checksums): a truncated or
        // foreign file with our name is replaced, a good one is reused.
        const meta = await proxmox.queryUrlMetadata(host, urls.disk).catch(() => null);
        const storage = plan.proxmox.imageStorage;
        const existing = (await proxmox.storageContent(host, storage, { content: 'import' })).find((i) => i.volid === imageVolid);
        if (existing && meta?.size && existing.size !== meta.size) {
          ctx.warn(`${imageVolid} on ${host} is ${existing.size} bytes but ${urls.disk} serves ${meta.size}: replacing it`);
          await proxmox.deleteVolume(host, storage, imageVolid);
        } else if (existing) {
          return meta?.size ? `already present (${existing.size} bytes, verified)` : 'already present';
        }
        ctx.progress('downloading');
        await proxmox.ensureDownloaded(host, storage, { url: urls.disk, content: 'import', filename: urls.diskFile });
        const got = (await proxmox.storageContent(host, storage, { content: 'import' })).find((i) => i.volid === imageVolid);
        if (!got) throw new CloudlabError({ code: 'IMAGE_MISSING', message: `the download of ${urls.disk} finished but ${imageVolid} is not on ${host}`, hint: `check the download task log on ${host}` });
        if (meta?.size && got.size !== meta.size) throw new CloudlabError({ code: 'IMAGE_SIZE', message: `${imageVolid} on ${host} is ${got.size} bytes, the URL serves ${meta.size}`, hint: 'the download was cut short; run apply again to retry it' });
        return `downloaded (${got.size} bytes${meta?.size ? ', verified' : ''})`;
      },
    });
  }

  const createdNow = new Set<string>();
  const nodeSteps = (n: PlanNode): void => {
    const action = byName.get(n.name)!;
    const s = n.name;
    steps.push({
      id: `vm:${s}`,
      title: action.kind === 'create' ? `Create VM ${n.vmid} ${n.name} on ${n.host}` : `VM ${n.vmid} ${n.name}`,
      node: s,
      after: [imageStepOf.get(n.host) ?? 'preflight'],
      keys: [`host:${n.host}`, `storage:${n.host}/${n.storage}`],
      shouldRun: () => (action.kind === 'noop' ? 'up to date' : true),
      describe: () => (action.kind === 'create' ? `create VM ${n.vmid} ${n.name} on ${n.host} (${n.cores} vCPU, ${n.memoryMiB} MiB, ${n.diskGiB} GiB, MAC ${n.mac})` : action.kind === 'update' ? `update ${n.name}: ${action.changes.map((c) => `${c.field} ${c.from} → ${c.to}${c.needsReboot ? ' (after reboot)' : ''}`).join(', ')}` : 'nothing'),
      run: async (ctx) => {
        if (action.kind === 'create') {
          // A VM that appeared since observation (an interrupted earlier run) is adopted, not recreated, but only
          // when it carries this cluster's tags and the node's name (D2): anything else stops the step untouched.
          const existing = await proxmox.findVm(n.vmid);
          const adoptedConfig = existing ? await assertOwned(proxmox, plan.cluster.name, { host: existing.node!, vmid: n.vmid, name: n.name }, 'adopt') : null;
          if (!existing) {
            if (plan.vm.template) {
              ctx.progress(`cloning template ${plan.vm.template.vmid}`);
              const tpl = await proxmox.findVm(plan.vm.template.vmid);
              if (!tpl) throw new CloudlabError({ code: 'TEMPLATE_MISSING', exitCode: EXIT_INVALID, message: `template VM ${plan.vm.template.vmid} does not exist`, hint: 'create the template first, or remove vm.template to import the image instead' });
              await proxmox.cloneVm(tpl.node!, plan.vm.template.vmid, { newid: n.vmid, name: n.name, full: plan.vm.template.full, target: n.host, ...(plan.vm.template.full ? { storage: n.storage } : {}) });
              await proxmox.updateVmConfig(n.host, n.vmid, cloneUpdateParams(plan, n, await proxmox.vmConfig(n.host, n.vmid)));
            } else {
              ctx.progress('creating');
              await proxmox.createVm(n.host, createParams(plan, n, imageVolid), { storage: n.storage });
            }
            summary.created.push(n.name);
          }
          ctx.progress('resizing disk');
          // A VM created just now holds the imported image (a few GiB, below the 10 GiB minimum): grow it
          // straight away. An adopted one is looked at first, since an earlier run may have grown it already.
          let grow = !existing;
          if (existing) {
            const size = /size=(\d+)G/.exec(String(adoptedConfig?.scsi0 ?? ''));
            grow = !size || Number(size[1]) < n.diskGiB;
          }
          if (grow) await proxmox.resizeDisk(n.host, n.vmid, 'scsi0', `${n.diskGiB}G`);
          if (!existing) createdNow.add(n.name);
          return existing ? 'adopted a VM left by an interrupted run' : 'created';
        }
        if (action.kind === 'update') {
          await assertOwned(proxmox, plan.cluster.name, { host: action.vm.host, vmid: n.vmid, name: n.name }, 'update');
          const p = updateParams(n, action.changes);
          if (p) await proxmox.updateVmConfig(n.host, n.vmid, p);
          const grow = action.changes.find((c) => c.field === 'disk');
          if (grow) await proxmox.resizeDisk(n.host, n.vmid, 'scsi0', `${n.diskGiB}G`);
          summary.updated.push(n.name);
          const reboot = action.changes.filter((c) => c.needsReboot);
          if (reboot.length && action.vm.status === 'running') {
            if (opts.allowReboot) {
              ctx.progress('rebooting to apply CPU/memory');
              await proxmox.shutdownVm(n.host, n.vmid, { forceStop: true, timeoutSec: 180 });
              await proxmox.startVm(n.host, n.vmid);
            } else {
              summary.rebootPending.push(n.name);
              ctx.warn(`${n.name}: ${reboot.map((c) => c.field).join(', ')} change takes effect after a reboot (run apply with --allow-reboot, or reboot it yourself)`);
            }
          }
          return action.changes.map((c) => `${c.field} → ${c.to}`).join(', ');
        }
        return undefined;
      },
    });
    steps.push({
      id: `start:${s}`,
      title: `Start ${n.name}`,
      node: s,
      after: [`vm:${s}`],
      keys: [`host:${n.host}`],
      shouldRun: async () => {
        if (opts.dryRun) return action.kind === 'create' || action.vm.status !== 'running' ? true : 'running';
        if (createdNow.has(n.name)) return true; // created stopped a moment ago by this run
        const st = await proxmox.vmStatus(n.host, n.vmid);
        return st.status === 'running' ? 'running' : true;
      },
      run: async () => {
        // A VM this run did not just create is started only while it is still ours.
        if (!createdNow.has(n.name)) await assertOwned(proxmox, plan.cluster.name, { host: n.host, vmid: n.vmid, name: n.name }, 'start');
        await proxmox.startVm(n.host, n.vmid);
        return 'started';
      },
    });
    steps.push({
      id: `address:${s}`,
      title: n.ip ? `Address ${n.ip} of ${n.name}` : `Discover the address of ${n.name} (guest agent)`,
      node: s,
      after: [`start:${s}`],
      shouldRun: () => (n.ip ? `static ${n.ip}` : true),
      describe: () => `wait for the QEMU guest agent of ${n.name} to report the address of MAC ${n.mac}`,
      run: async (ctx) => {
        ctx.progress('waiting for the guest agent');
        let ifaces: Awaited<ReturnType<typeof proxmox.waitForAgentAddresses>>;
        try {
          ifaces = await proxmox.waitForAgentAddresses(n.host, n.vmid, { timeoutMs: t.agentMs });
        } catch (e) {
          throw new CloudlabError({ code: 'ADDRESS_DISCOVERY', message: `no address for ${n.name} from the QEMU guest agent`, hint: 'check that the image has the siderolabs/qemu-guest-agent extension, that the VM got a DHCP lease on its bridge/VLAN, and that the agent is enabled in the VM options', cause: e });
        }
        // The node's own address, never the VIP the holder also carries on eth0 (C7).
        const ip = pickNodeAddress(ifaces.map((i) => ({ name: i.name, ...(i.mac ? { mac: i.mac } : {}), ipv4: i.addresses })), n.mac, [plan.cluster.vip]);
        if (!ip) throw new CloudlabError({ code: 'ADDRESS_DISCOVERY', message: `the guest agent of ${n.name} reports no IPv4 address for MAC ${n.mac}`, hint: 'check the DHCP server for the bridge/VLAN' });
        addresses.set(n.name, ip);
        plan = resolveAddresses(plan, Object.fromEntries(addresses));
        return ip;
      },
    });
    // Without a VIP under DHCP, the endpoint is the bootstrap node's discovered address: every config needs it.
    const bootName = plan.nodes.find((x) => x.bootstrap)!.name;
    const needsBootAddress = plan.cluster.endpoint === null && bootName !== s;
    steps.push({
      id: `config:${s}`,
      title: `Configure ${n.name}`,
      node: s,
      after: [`address:${s}`, ...(needsBootAddress ? [`address:${bootName}`] : [])],
      shouldRun: async () => {
        if (opts.dryRun) {
          if (action.kind === 'create' || !bundle) return true;
          const addr = addresses.get(n.name);
          if (!addr) return true;
          const c = await ensureCreds();
          const st = await probeTalos(addr, c, { port });
          talosState.set(n.name, st.state);
          if (st.state !== 'configured') return true;
          const { renderNodeConfig } = await import('../render/talos/config.js');
          const cfg = await renderNodeConfig(plan, plan.nodes.find((x) => x.name === n.name)!, bundle, { secrets: extraSecrets });
          const { TalosClient } = await import('../providers/talos/client.js');
          const tc = TalosClient.secure(addr, c, { port, timeoutMs: 15_000 });
          try {
            const r = await tc.applyConfiguration(cfg, 'auto', { dryRun: true });
            return /No changes/i.test(r.modeDetails) ? 'config up to date' : true;
          } finally {
            tc.close();
          }
        }
        return true;
      },
      describe: () => (action.kind === 'create' ? `apply the ${n.role} config to ${n.name} in maintenance mode, wait for install and reboot` : `apply the changed config to ${n.name} (no reboot where Talos allows)`),
      run: async (ctx) => {
        const addr = addresses.get(n.name)!;
        const c = await ensureCreds();
        const { renderNodeConfig } = await import('../render/talos/config.js');
        const current = plan.nodes.find((x) => x.name === n.name)!;
        const config = await renderNodeConfig(plan, current, bundle!, { secrets: extraSecrets });
        // Wait for the node to answer at all (it may still be booting).
        const until = Date.now() + t.bootMs;
        let st = await probeTalos(addr, c, { port });
        while (st.state === 'unreachable') {
          if (Date.now() > until) throw new CloudlabError({ code: 'TALOS_UNREACHABLE', message: `${n.name} (${addr}) did not answer on the Talos API within ${Math.round(t.bootMs / 1000)} s: ${st.reason}`, hint: `check the VM console in Proxmox (VM ${n.vmid} on ${n.host}): is it booted, on the right network, with address ${addr}?` });
          ctx.progress('booting: the Talos API does not answer yet');
          await sleep(1000);
          if (ctx.signal.aborted) throw new CloudlabError({ code: 'CANCELLED', message: `stopped waiting for ${n.name} to boot`, exitCode: 130 });
          st = await probeTalos(addr, c, { port });
        }
        talosState.set(n.name, st.state);
        if (st.state === 'maintenance') {
          ctx.progress('applying config (maintenance mode)');
          const { sendMaintenanceConfig, waitInstalled } = await import('./install.js');
          const target = { name: n.name, address: addr, vmid: n.vmid, host: n.host };
          const io = { port, installMs: t.installMs, signal: ctx.signal, progress: (d: string) => ctx.progress(d), setting: 'CLOUDLAB_TIMEOUT_SCALE (multiplies every apply timeout; default 1)' };
          // Sent once per maintenance answer; a lost reply is waited out, not re-sent (the node is installing).
          const warnings = await sendMaintenanceConfig(target, c, config, io);
          for (const w of warnings ?? []) ctx.warn(`${n.name}: ${w}`);
          ctx.progress('installing and rebooting');
          const version = await waitInstalled(target, c, io);
          const v = { tag: version };
          talosState.set(n.name, 'configured');
          summary.configured.push(n.name);
          return `installed Talos ${v.tag}`;
        }
        ctx.progress('comparing config');
        const r = await applyToConfigured(addr, c, config, { port });
        if (!r.changed) return 'config up to date';
        for (const w of r.result!.warnings) ctx.warn(`${n.name}: ${w}`);
        summary.configured.push(n.name);
        return `config applied (${r.result!.mode}${r.result!.modeDetails ? `: ${r.result!.modeDetails.split('\n')[0]}` : ''})`;
      },
    });
  };
  for (const n of plan.nodes) nodeSteps(n);

  const boot = plan.nodes.find((n) => n.bootstrap)!;
  steps.push({
    id: 'bootstrap',
    title: `Bootstrap etcd on ${boot.name}`,
    after: [`config:${boot.name}`],
    shouldRun: async () => {
      if (opts.dryRun) {
        if (!bundle || byName.get(boot.name)!.kind === 'create') return true;
        const addr = addresses.get(boot.name);
        return addr && (await isBootstrapped(addr, await ensureCreds(), { port })) ? 'already bootstrapped' : true;
      }
      return true;
    },
    describe: () => `bootstrap etcd once on ${boot.name} at its own address (never the VIP)`,
    run: async (ctx) => {
      const addr = addresses.get(boot.name)!;
      const r = await bootstrapOnce(addr, await ensureCreds(), { port, timeoutMs: t.bootMs, signal: ctx.signal });
      summary.bootstrapped = r === 'bootstrapped';
      return r === 'bootstrapped' ? `bootstrapped at ${addr}` : 'already bootstrapped';
    },
  });

  let kubeconfig = '';
  steps.push({
    id: 'endpoint',
    title: `Kubernetes API on ${plan.cluster.endpoint ?? 'the first control plane'}`,
    after: ['bootstrap'],
    shouldRun: () => (opts.dryRun ? 'checked during apply' : true),
    run: async (ctx) => {
      const addr = addresses.get(boot.name)!;
      ctx.progress('fetching kubeconfig');
      kubeconfig = await fetchKubeconfig(addr, await ensureCreds(), { port, timeoutMs: t.endpointMs, signal: ctx.signal });
      const { KubeClient } = await import('../providers/kube/client.js');
      const kube = KubeClient.fromKubeconfig(kubeconfig);
      const until = Date.now() + t.endpointMs;
      let last = '';
      for (;;) {
        try {
          const r = await kube.readyz();
          if (r.ok) break;
          last = `readyz ${r.status}: ${r.body.slice(0, 200)}`;
        } catch (e) {
          last = (e as Error).message;
        }
        if (Date.now() > until) throw new CloudlabError({ code: 'ENDPOINT_TIMEOUT', message: `the Kubernetes API at ${plan.cluster.endpoint} did not become ready within ${Math.round(t.endpointMs / 1000)} s (last: ${last})`, hint: plan.cluster.vip ? `the VIP ${plan.cluster.vip} appears only after etcd is up on a control plane; check \`cloudlab status\`` : 'check `cloudlab status`' });
        ctx.progress(`waiting for ${plan.cluster.endpoint} (${last.slice(0, 60)})`);
        if (ctx.signal.aborted) throw new CloudlabError({ code: 'CANCELLED', message: `stopped waiting for ${plan.cluster.endpoint}`, exitCode: 130 });
        await sleep(500);
      }
      return 'ready';
    },
  });

  steps.push({
    id: 'health',
    title: 'All nodes Ready',
    after: ['endpoint', ...plan.nodes.map((n) => `config:${n.name}`)],
    shouldRun: () => (opts.dryRun ? 'checked during apply' : true),
    run: async (ctx) => {
      const { KubeClient } = await import('../providers/kube/client.js');
      const kube = KubeClient.fromKubeconfig(kubeconfig);
      const until = Date.now() + t.healthMs;
      for (;;) {
        const nodes = await kube.listNodes().catch(() => []);
        const notReady = plan.nodes.filter((n) => !nodes.some((k) => k.name === n.name && k.ready)).map((n) => n.name);
        if (notReady.length === 0) return `${nodes.length} nodes Ready`;
        if (Date.now() > until) {
          const first = notReady[0]!;
          const k = nodes.find((x) => x.name === first);
          throw new CloudlabError({ code: 'HEALTH_TIMEOUT', message: `${notReady.length} node(s) not Ready after ${Math.round(t.healthMs / 1000)} s; first: ${first} (${k ? `Ready=${k.ready}${k.readyReason ? `, ${k.readyReason}` : ''}` : 'not registered with Kubernetes'})`, hint: 'check `cloudlab status`; a node that never registers usually cannot reach the endpoint' });
        }
        ctx.progress(`${nodes.filter((k) => k.ready).length}/${plan.nodes.length} Ready`);
        if (ctx.signal.aborted) throw new CloudlabError({ code: 'CANCELLED', message: 'stopped waiting for nodes to be Ready', exitCode: 130 });
        await sleep(500);
      }
    },
  });

  steps.push({
    id: 'outputs',
    title: 'Write encrypted talosconfig and kubeconfig',
    after: ['health'],
    shouldRun: () => (opts.dryRun ? 'written during apply' : true),
    run: async () => {
      const { TALOSCONFIG_FILE, KUBECONFIG_FILE, writeEncryptedFile, readSecretFile } = await import('../sops/index.js');
      const { existsSync } = await import('node:fs');
      await ensureCreds();
      const written: string[] = [];
      const write = async (rel: string, text: string, same: (old: string) => boolean): Promise<void> => {
        const file = join(dir, rel);
        if (existsSync(file)) {
          const old = await readSecretFile(file, env).catch(() => null);
          // Unchanged content (same endpoint, CA, still-valid credentials) keeps its file: no churn in git.
          if (old !== null && (old === text || same(old))) return;
        }
        await writeEncryptedFile(file, text, env);
        written.push(rel);
      };
      const { sameKubeconfig } = await import('./outputs.js');
      await write(TALOSCONFIG_FILE, talosconfigText, () => false);
      await write(KUBECONFIG_FILE, kubeconfig, (old) => sameKubeconfig(old, kubeconfig));
      summary.outputs = written;
      return written.length ? `wrote ${written.join(', ')}` : 'unchanged';
    },
  });

  const result = await runSteps(steps, {
    dryRun: Boolean(opts.dryRun),
    // Most long steps are waits on Talos (install, reboot): they cost nothing, so the overall bound is generous.
    // Proxmox work is bounded where Proxmox itself serialises: per host, and per storage (allocation locks).
    parallel: opts.parallel ?? 64,
    limits: { host: 6, storage: 4 },
    resumeHint: 'run `cloudlab apply` again: it resumes where this run stopped (finished steps are skipped)',
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.events ? { events: opts.events } : {}),
  });
  return { ...summary, ...result };
}
