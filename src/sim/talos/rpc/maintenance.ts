// Owns the Talos 1.11/1.12 maintenance server's answers: only ApplyConfiguration (TRY, REBOOT or AUTO), which installs
// the configuration and reboots into it; every other call is Unimplemented. Nodes that booted 1.13+ answer as
// maintenance-unified.ts does (../versions.ts).
import type { MethodName } from '../../../providers/talos/proto.js';
import type { SimTalosNode } from '../node.js';
import { behaviourOf } from '../versions.js';
import { unifiedMaintenanceCall } from './maintenance-unified.js';
import { validateConfig } from './validate.js';
import { fail, S, type Reply, type Req, type RpcEnv } from './types.js';

export function maintenanceCall(node: SimTalosNode, name: MethodName, req: Req, env: RpcEnv): Reply {
  if (behaviourOf(node.talosVersion).unifiedMaintenance) return unifiedMaintenanceCall(node, name, req, env);
  if (name !== 'ApplyConfiguration') throw fail(S.UNIMPLEMENTED, 'API is not implemented in maintenance mode');
  const mode = String(req.mode);
  if (!['TRY', 'REBOOT', 'AUTO'].includes(mode)) {
    throw fail(S.UNIMPLEMENTED, `apply configuration --mode='${mode.toLowerCase().replace(/_/g, '-')}' is not supported in maintenance mode`);
  }
  if (node.busy || node.state !== 'maintenance') throw fail(S.FAILED_PRECONDITION, 'another apply configuration is already in progress');
  const { config, warnings } = validateConfig(req.data as Buffer);
  if (req.dry_run) {
    return { unary: { messages: [{ warnings, mode: 'REBOOT', mode_details: 'Dry run summary:\nNode is running in maintenance mode and does not have a config yet.' }] } };
  }
  // The reply goes out first; then the node installs to disk and reboots into the configuration.
  node.install(config);
  // Issue the apid certificate while installing so the boot does not wait on it (availability is still gated on trustd).
  const cluster = node.host.clusterFor(config);
  const caKey = config.osCa.key ? config.osCa : cluster.knownOsCa;
  if (config.osCa.key) cluster.knownOsCa = config.osCa;
  if (caKey?.key) env.prefetchApidCert(node, { crt: caKey.crt, key: caKey.key }, config.hostname ?? node.hostname);
  return { unary: { messages: [{ warnings, mode: 'REBOOT', mode_details: '' }] } };
}
