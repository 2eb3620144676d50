// Owns the list of command groups. Each group lives in its own file and lazy-loads its implementation,
// so `cloudlab --version` stays fast. Add one import and one line per group.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { register as configs } from './configs.js';
import { register as demo } from './demo.js';
import { register as etcd } from './etcd.js';
import { register as gen } from './gen.js';
import { register as image } from './image.js';
import { register as node } from './node.js';
import { register as init } from './init.js';
import { register as render } from './render.js';
import { register as scan } from './scan.js';
import { register as cluster } from './cluster.js';
import { register as meta } from './meta.js';
import { register as plan } from './plan.js';
import { register as doctor } from './doctor.js';
import { register as secrets } from './secrets.js';
import { register as sim } from './sim.js';
import { register as sops } from './sops.js';
import { register as sopsTools } from './sops-tools.js';
import { register as spec } from './spec.js';
import { register as talos } from './talos.js';

type Register = (program: Command, ctx: CliContext) => void;

/**
 * Every group with the top-level commands it adds (test/cli/registration.test.ts checks them against what it
 * registers). A command line that names one of them registers only the groups that add it: the hundred-odd other
 * commands and their options cost ~3.5 ms of every start-up. Help, completion (which read the whole tree) and a
 * misspelt command (whose suggestions do) register everything; meta's commands list none for that reason.
 */
// command-registrations: keep one line per group, sorted.
export const groups: Array<{ commands: string[]; register: Register }> = [
  { commands: ['apply', 'status', 'destroy', 'unlock'], register: cluster },
  { commands: ['kubeconfig', 'talosconfig', 'flux'], register: configs },
  { commands: ['demo'], register: demo },
  { commands: ['etcd'], register: etcd },
  { commands: ['gen'], register: gen },
  { commands: ['image'], register: image },
  { commands: ['node'], register: node },
  { commands: ['init', 'hook'], register: init },
  { commands: ['render'], register: render },
  { commands: [], register: meta },
  { commands: ['scan'], register: scan },
  { commands: ['plan'], register: plan },
  { commands: ['doctor'], register: doctor },
  { commands: ['secrets'], register: secrets },
  { commands: ['sim'], register: sim },
  { commands: ['sops'], register: sops },
  { commands: ['sops'], register: sopsTools },
  { commands: ['validate', 'schema'], register: spec },
  { commands: ['talos'], register: talos },
];

/** Registers the groups `argv` needs (its first word's), or every group (also whenever help is asked for). */
export function registerAll(program: Command, ctx: CliContext, argv: readonly string[] = []): void {
  const word = argv.find((a) => !a.startsWith('-'));
  const help = argv.includes('--help') || argv.includes('-h');
  const needed = word === undefined || help ? [] : groups.filter((g) => g.commands.includes(word));
  for (const g of needed.length ? needed : groups) g.register(program, ctx);
}
