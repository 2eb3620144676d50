// Owns the identities step: the Proxmox users and privilege-separated tokens of the CCM and CSI, checked with their
// own tokens (so a converged cluster needs no admin rights) and created or repaired only when they are not right,
// the new secret stored SOPS-encrypted at once; without the rights to do so it stops with the pveum commands.
import { cluster, defineStep } from './step.js';

export const identitiesStep = defineStep({
  name: 'identities',
  targets: (f) => (f.plan.platform.ccm || f.plan.platform.csi ? cluster() : []),
  id: () => 'identities',
  title: (f) => `Proxmox identities of the ${[f.plan.platform.ccm ? 'CCM' : '', f.plan.platform.csi ? 'CSI' : ''].filter(Boolean).join(' and ')}`,
  after: () => ['preflight'],
  guard: async (s) => {
    const { planIdentities } = await import('../platform-identities.js');
    const states = await planIdentities({ proxmox: s.session.proxmox, plan: s.plan, dir: s.session.dir, env: s.session.env });
    const pending = states.filter((x) => x.state !== 'ok');
    return pending.length ? true : 'every token works, with exactly its privileges';
  },
  describe: () => 'create or repair the CCM/CSI users, roles and tokens (secrets stored encrypted)',
  run: async (s) => {
    const { ensureIdentities } = await import('../platform-identities.js');
    const out = await ensureIdentities({ proxmox: s.session.proxmox, plan: s.plan, dir: s.session.dir, env: s.session.env });
    return out.flatMap((o) => o.changes).join('; ') || 'up to date';
  },
});
