// Owns the COSI resources the simulated node serves through State.List (cosi-project/runtime api/v1alpha1/state.proto),
// each as upstream marshals its spec to YAML: ExtensionStatuses.runtime.talos.dev (namespace runtime; the Image
// Factory's "schematic" entry carries the schematic ID: pkg/machinery/resources/runtime/extension_status.go),
// MachineConfigs.config.talos.dev (namespace config, id "v1alpha1": the active configuration as one YAML string,
// pkg/machinery/resources/config/machine_config.go) and, on control planes, Manifests.kubernetes.talos.dev (namespace
// controlplane: the bootstrap manifests rendered from the machine configuration, a list of objects per id,
// pkg/machinery/resources/k8s/manifest.go and internal/app/machined/pkg/controllers/k8s/manifest.go).
import { stringify } from 'yaml';
import { bootstrapManifests } from '../../kube/index.js';
import { addonsOf } from '../cluster.js';
import { fail, S, type Handlers } from './types.js';
import { frames } from './upgrade.js';

const resource = (namespace: string, type: string, id: string, spec: unknown) => ({ resource: { metadata: { namespace, type, id, version: '1', phase: 'running' }, spec: { yaml_spec: stringify(spec) } } });

export const cosiHandlers: Handlers = {
  CosiList: ({ node, config, controlPlane, req }) => {
    const ns = String(req.namespace ?? '');
    const type = String(req.type ?? '');
    const list = (items: ReturnType<typeof resource>[]) => frames('cosi.resource.ListResponse', items);
    switch (type) {
      case 'ExtensionStatuses.runtime.talos.dev': {
        if (ns !== 'runtime') return list([]);
        const entries = [
          ...(node.opts.extensions ?? []).map((e) => ({ image: `${e.split('/').pop()}.sqsh`, metadata: { name: e.split('/').pop(), version: node.talosVersion, author: 'Sidero Labs', description: '', compatibility: { talos: { version: `>= ${node.talosVersion}` } } } })),
          ...(node.slots.active.schematic ? [{ image: '', metadata: { name: 'schematic', version: node.slots.active.schematic, author: 'Image Factory', description: 'This is a meta-extension that contains the schematic ID.', compatibility: { talos: { version: '' } } } }] : []),
        ];
        return list(entries.map((spec, i) => resource(ns, type, String(i), spec)));
      }
      case 'MachineConfigs.config.talos.dev':
        return list(ns === 'config' ? [resource(ns, type, 'v1alpha1', config.raw)] : []);
      case 'Manifests.kubernetes.talos.dev':
        if (ns !== 'controlplane' || !controlPlane) return list([]);
        return list(bootstrapManifests(addonsOf(config)).map((m) => resource(ns, type, m.id, m.objects)));
      default:
        throw fail(S.NOT_FOUND, `resource type "${type}" is not registered`);
    }
  },
};
