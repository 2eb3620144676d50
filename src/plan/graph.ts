// Owns the provisioning step graph of a plan (what apply does, in dependency order), rendered as Mermaid.
import type { Plan } from './types.js';

export interface GraphStep {
  id: string;
  label: string;
  after: string[];
}

/** The steps apply walks for this plan, with their dependencies. */
export function stepGraph(plan: Plan): GraphStep[] {
  const steps: GraphStep[] = [{ id: 'preflight', label: 'Preflight checks', after: [] }];
  const imageSteps = new Map<string, string>();
  for (const n of plan.nodes) {
    // One download per image storage per host (local storage is per host).
    const key = `${n.host}`;
    if (!imageSteps.has(key)) {
      const id = `image_${sanitize(n.host)}`;
      imageSteps.set(key, id);
      steps.push({ id, label: `Download image to ${n.host}:${plan.proxmox.imageStorage}`, after: ['preflight'] });
    }
  }
  const configured: string[] = [];
  const cpConfigured: string[] = [];
  for (const n of plan.nodes) {
    const s = sanitize(n.name);
    steps.push({ id: `vm_${s}`, label: `Create VM ${n.vmid} ${n.name} on ${n.host}`, after: [imageSteps.get(n.host)!] });
    steps.push({ id: `start_${s}`, label: `Start ${n.name}`, after: [`vm_${s}`] });
    const addr = n.ip ? `Address ${n.ip}` : 'Discover address (guest agent)';
    steps.push({ id: `addr_${s}`, label: `${addr} ${n.name}`, after: [`start_${s}`] });
    steps.push({ id: `config_${s}`, label: `Apply config + install ${n.name}`, after: [`addr_${s}`] });
    configured.push(`config_${s}`);
    if (n.role === 'controlplane') cpConfigured.push(`config_${s}`);
  }
  const boot = plan.nodes.find((n) => n.bootstrap)!;
  steps.push({ id: 'bootstrap', label: `Bootstrap etcd on ${boot.name}`, after: cpConfigured });
  steps.push({ id: 'endpoint', label: `Wait for API endpoint ${plan.cluster.endpoint ?? '(first control plane)'}`, after: ['bootstrap'] });
  steps.push({ id: 'health', label: 'All nodes Ready', after: ['endpoint', ...configured] });
  steps.push({ id: 'outputs', label: 'Write encrypted talosconfig + kubeconfig', after: ['health'] });
  return steps;
}

function sanitize(s: string): string {
  return s.replace(/[^A-Za-z0-9_]/g, '_');
}

export function toMermaid(steps: GraphStep[]): string {
  const lines = ['graph TD'];
  for (const s of steps) lines.push(`  ${s.id}["${s.label.replace(/"/g, "'")}"]`);
  for (const s of steps) for (const a of s.after) lines.push(`  ${a} --> ${s.id}`);
  return lines.join('\n') + '\n';
}
