// Owns where client configs are looked up and merged, as the users' other tools decide it:
// talosconfig as talosctl (pkg/machinery/client/config/path.go: --talosconfig, else the first existing of
// $TALOSCONFIG, ~/.talos/config, /var/run/secrets/talos.dev/config, else the first writable of them), and the
// kubeconfig merge target as client-go (tools/clientcmd/loader.go GetDefaultFilename: --kubeconfig, else the first
// existing file of the $KUBECONFIG list, else its first entry; ~/.kube/config without $KUBECONFIG).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

const SERVICE_ACCOUNT_TALOSCONFIG = '/var/run/secrets/talos.dev/config';

function home(env: NodeJS.ProcessEnv): string {
  return env.HOME || homedir();
}

/** The talosconfig talosctl would read (`read`) or write (`write`: never the read-only service-account path). */
export function talosconfigPath(env: NodeJS.ProcessEnv, explicit?: string, mode: 'read' | 'write' = 'read', exists: (p: string) => boolean = existsSync): string {
  if (explicit) return explicit;
  const paths: Array<{ path: string; writable: boolean }> = [];
  if (env.TALOSCONFIG !== undefined) paths.push({ path: env.TALOSCONFIG, writable: true });
  paths.push({ path: join(home(env), '.talos', 'config'), writable: true });
  if (mode === 'read') paths.push({ path: SERVICE_ACCOUNT_TALOSCONFIG, writable: false });
  const found = paths.find((p) => p.path && exists(p.path));
  return (found ?? paths.find((p) => p.writable && p.path))!.path;
}

/** The kubeconfig files client-go loads, in precedence order ($KUBECONFIG split on the path list separator). */
export function kubeconfigPrecedence(env: NodeJS.ProcessEnv): string[] {
  if (env.KUBECONFIG) {
    const list = [...new Set(env.KUBECONFIG.split(delimiter).filter(Boolean))];
    if (list.length) return list;
  }
  return [join(home(env), '.kube', 'config')];
}

/** The file a new kubeconfig context is merged into, as client-go's GetDefaultFilename picks it. */
export function kubeconfigTarget(env: NodeJS.ProcessEnv, explicit?: string, exists: (p: string) => boolean = existsSync): string {
  if (explicit) return explicit;
  const list = kubeconfigPrecedence(env);
  return list.find((p) => exists(p)) ?? list[0]!;
}
