// Owns the online `plan`: compares the plan with what Proxmox and Talos report and prints the actions.
import { CloudlabError } from '../core/errors.js';
import type { LoadedSpec } from '../spec/load.js';
import type { CliContext } from './context.js';

export async function runLivePlan(_ctx: CliContext, _loaded: LoadedSpec, _opts: { detailedExitcode: boolean }): Promise<number> {
  throw new CloudlabError({ code: 'LIVE_PLAN_UNAVAILABLE', message: 'planning against the live cluster is not available in this build', hint: 'use `cloudlab plan --offline`' });
}
