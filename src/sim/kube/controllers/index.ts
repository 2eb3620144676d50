// Owns the control loop of the simulated cluster: after any change (and when a modelled delay is due) it runs, in
// order, CRD establishment, node registration, static pods, bootstrap addons, workload controllers, the scheduler, the
// kubelets (and their CSI registrations), the modelled Proxmox cloud controller manager (proxmox-ccm.ts), garbage
// collection, namespace termination and disruption budgets, and the Flux controllers (asynchronous: they talk to real
// git repositories), until nothing changes. One pass at a time.
import type { ObjectRegistry } from '../objects.js';
import type { KubeStore } from '../store.js';
import { Ctx, md, type ControllerHooks } from './context.js';
import { syncCrds } from './crds.js';
import { FluxControllers } from './flux.js';
import { collectGarbage, finishNamespaces, syncDisruptionBudgets } from './lifecycle.js';
import { syncAddons, syncNodes, syncStaticPods } from './nodes.js';
import { runKubelets, schedule } from './pods.js';
import { syncDaemonSets, syncDeployments, syncJobs, syncReplicaSets } from './workloads.js';
import { runProxmoxCcm } from './proxmox-ccm.js';
import { syncCsiNodes } from './csi-nodes.js';

export type { ControllerHooks, KubeletInfo, AddonsInfo } from './context.js';

export class ControlLoop {
  private readonly ctx: Ctx;
  private timer: NodeJS.Timeout | null = null;
  private dueTimer: NodeJS.Timeout | null = null;
  private running = false;
  private dirty = false;
  private stopped = false;
  private readonly unsubscribe: () => void;
  private readonly flux: FluxControllers;
  lastError: string | null = null;

  constructor(store: KubeStore, registry: ObjectRegistry, hooks: ControllerHooks, private readonly periodMs: number) {
    this.ctx = new Ctx(store, registry, hooks);
    this.flux = new FluxControllers((e) => {
      this.lastError = (e as Error).stack ?? String(e);
    });
    this.unsubscribe = store.subscribe((ch) => {
      if (ch.rtype.kind === 'Node' && ch.type === 'DELETED') hooks.nodeDeleted(String(md(ch.obj).name));
      this.kick();
    });
  }

  /** Schedules a pass soon (coalesced). */
  kick(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (this.timer || this.running) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pass();
    }, 5);
  }

  private pass(): void {
    if (this.stopped) return;
    if (!this.ctx.store.ready) return;
    this.running = true;
    let next: number | null = null;
    try {
      for (let i = 0; i < 20 && this.dirty; i++) {
        this.dirty = false;
        next = this.once();
      }
      this.lastError = null;
    } catch (e) {
      this.lastError = (e as Error).stack ?? String(e);
    } finally {
      this.running = false;
    }
    if (this.dirty) this.kick();
    const wait = Math.min(next ?? this.periodMs, this.periodMs);
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueTimer = setTimeout(() => {
      this.dueTimer = null;
      this.kick();
    }, wait);
    // The listeners keep a process alive, not the control loop's heartbeat.
    this.dueTimer.unref();
  }

  private once(): number | null {
    const c = this.ctx;
    syncCrds(c);
    syncNodes(c);
    syncStaticPods(c);
    syncAddons(c);
    const pods = () => c.store.list(c.t('', 'pods'));
    syncDeployments(c);
    syncReplicaSets(c, pods());
    syncDaemonSets(c, pods());
    syncJobs(c, pods());
    schedule(c);
    const kubelets = runKubelets(c);
    syncCsiNodes(c);
    const ccm = runProxmoxCcm(c, () => this.kick());
    const next = kubelets === null ? ccm : ccm === null ? kubelets : Math.min(kubelets, ccm);
    collectGarbage(c);
    finishNamespaces(c);
    syncDisruptionBudgets(c, pods());
    const flux = this.flux.sync(c);
    return next === null ? flux : flux === null ? next : Math.min(next, flux);
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    if (this.dueTimer) clearTimeout(this.dueTimer);
  }
}
