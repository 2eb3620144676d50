// Owns ApplyConfiguration in configured mode as Talos v1.12's machined answers it (see docs/talos-api.md): the modes
// NO_REBOOT, TRY, STAGED, REBOOT and AUTO, dry runs with a summary and diff, and the refusals while a reboot is pending;
// on 1.14+ REBOOT is refused and AUTO is always NO_REBOOT (../versions.ts).
import { configDiff } from '../config-diff.js';
import { goDuration, immediateApplyError } from '../immediate.js';
import { behaviourOf, REBOOT_MODE_REFUSED } from '../versions.js';
import { validateConfig } from './validate.js';
import { fail, one, S, type Handlers, type Req } from './types.js';

export const applyHandlers: Handlers = {
  ApplyConfiguration: ({ node, config: current, req }) => {
    if (node.awaitingReboot) throw fail(S.FAILED_PRECONDITION, 'configuration was already applied and node is rebooting, cannot apply more configuration changes until next reboot');
    if (node.busy) throw fail(S.FAILED_PRECONDITION, 'another apply configuration is already in progress');
    let mode = String(req.mode);
    // Talos 1.14 never reboots for an apply: REBOOT is refused, AUTO is NO_REBOOT without the immediate check.
    const noReboot = behaviourOf(node.talosVersion).applyWithoutReboot;
    if (noReboot && mode === 'REBOOT') throw fail(S.UNIMPLEMENTED, REBOOT_MODE_REFUSED);
    if (noReboot && mode === 'AUTO') mode = 'NO_REBOOT';
    const { config, warnings } = validateConfig(req.data as Buffer);
    let details = 'Applied configuration with a reboot';
    let modeErr = '';
    const immediateErr = () => (noReboot ? null : immediateApplyError(current.raw, config.raw));
    switch (mode) {
      case 'NO_REBOOT':
      case 'TRY': {
        const err = immediateErr();
        if (err) throw fail(S.INVALID_ARGUMENT, err);
        details = 'Applied configuration without a reboot';
        break;
      }
      case 'STAGED':
        details = 'Staged configuration to be applied after the next reboot';
        break;
      case 'REBOOT':
        break;
      case 'AUTO': {
        const err = immediateErr();
        if (err) {
          mode = 'REBOOT';
          modeErr = `: ${err}`;
        } else {
          mode = 'NO_REBOOT';
          details = 'Applied configuration without a reboot';
        }
        break;
      }
      default:
        throw fail(S.INVALID_ARGUMENT, `incorrect mode '${mode}' specified for the apply config call`);
    }
    // Talos' dry-run reply carries the mode and the summary only (no warnings, no reason for a reboot).
    if (req.dry_run) return one({ mode, mode_details: `Dry run summary:\n${details} (skipped in dry-run).\n${configDiff(current.raw, config.raw)}` });
    if (mode === 'TRY') {
      const d = req.try_mode_timeout as { seconds?: string; nanos?: number } | null | undefined;
      const ms = d ? Number(d.seconds ?? 0) * 1000 + Math.floor((d.nanos ?? 0) / 1e6) : 60_000;
      details += `\nThe config is applied in 'try' mode and will be automatically reverted back in ${goDuration(ms)}`;
      node.tryConfig(config, ms);
    } else if (mode === 'STAGED') node.stageConfig(config);
    else if (mode === 'REBOOT') node.rebootInto(config);
    else node.applyNow(config);
    const reply: Req = { warnings, mode, mode_details: details + modeErr };
    return one(reply);
  },
};
