// Owns turning a live command's flags into its action input (spec, directory, environment, --simulate) and the
// notices every action may send (shown dim on stderr, warnings as warnings).
import type { LiveInput, Notices } from '../actions/live.js';
import type { CliContext } from './context.js';

/** The action input of a live command: its spec, directory, environment and --simulate. */
export function liveInput(ctx: CliContext, o: { file: string; simulate?: boolean; allowEvenControlPlanes?: boolean }): LiveInput {
  return { file: o.file, cwd: ctx.cwd, env: ctx.env, ...(o.simulate ? { simulate: true } : {}), ...(o.allowEvenControlPlanes ? { allowEvenControlPlanes: true } : {}) };
}

export function notices(ctx: CliContext): Notices {
  return { onInfo: (m) => ctx.info(ctx.c.dim(m)), onWarning: (m) => ctx.warn(m) };
}

