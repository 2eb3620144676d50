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

// command-registrations: keep one line per group, sorted.
const groups: Register[] = [
  cluster,
  configs,
  demo,
  etcd,
  gen,
  image,
  node,
  init,
  render,
  meta,
  scan,
  plan,
  doctor,
  secrets,
  sim,
  sops,
  sopsTools,
  spec,
  talos,
];

export function registerAll(program: Command, ctx: CliContext): void {
  for (const register of groups) register(program, ctx);
}
