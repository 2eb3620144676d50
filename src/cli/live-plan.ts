// Owns the online `plan`: compares the plan with what Proxmox and Talos report and prints the actions.
import type { CliContext } from './context.js';

export async function runLivePlan(ctx: CliContext, file: string, opts: { detailedExitcode: boolean; simulate?: boolean; out?: string; targets?: string[] }): Promise<number> {
  const { runLivePlanCommand } = await import('./apply-command.js');
  return runLivePlanCommand(ctx, { file, ...(opts.simulate ? { simulate: true } : {}), detailedExitcode: opts.detailedExitcode, ...(opts.out ? { out: opts.out } : {}), ...(opts.targets?.length ? { targets: opts.targets } : {}) });
}
