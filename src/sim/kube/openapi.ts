// Owns the OpenAPI v3 discovery the API server publishes (/openapi/v3 and /openapi/v3/<api|apis/group>/<version>),
// reduced to what clients read from it: one path per resource whose PATCH operation carries the
// x-kubernetes-group-version-kind extension and the fieldValidation query parameter, which kubectl checks before it
// leaves validation to the server (k8s.io/cli-runtime/pkg/resource/query_param_verifier_v3.go), and /openapi/v2 as the
// protobuf Document (gnostic openapi_v2.proto: swagger = 1, info = 2 {title = 1, version = 2}) kubectl falls back to
// for kinds it cannot check there (a custom resource whose CRD is in the same manifest). No schemas are served, so
// client-side validation finds none and leaves the checks to the server.
import { createHash } from 'node:crypto';
import type { TypeRegistry } from './resources.js';
import type { Obj } from './status.js';

const gvPath = (group: string, version: string) => (group ? `apis/${group}/${version}` : `api/${version}`);

export function openApiRoot(types: TypeRegistry): Obj {
  const paths: Obj = {};
  const gvs = new Set(types.all().map((t) => gvPath(t.group, t.version)));
  for (const gv of [...gvs].sort()) {
    const hash = createHash('sha512').update(JSON.stringify(openApiGroupVersion(types, gv))).digest('hex').slice(0, 128).toUpperCase();
    paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${hash}` };
  }
  return { paths };
}

const QUERY = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({ name, in: 'query', schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true } }));

/** The document for one group/version (`api/v1`, `apis/apps/v1`), or null when no type is served there. */
export function openApiGroupVersion(types: TypeRegistry, gv: string): Obj | null {
  const ts = types.all().filter((t) => gvPath(t.group, t.version) === gv);
  if (!ts.length) return null;
  const paths: Obj = {};
  for (const t of ts) {
    const base = `/${gv}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.resource}/{name}`;
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    paths[base] = {
      parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }, ...(t.namespaced ? [{ name: 'namespace', in: 'path', required: true, schema: { type: 'string' } }] : [])],
      get: { operationId: `read${t.kind}`, 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk, responses: {} },
      patch: { operationId: `patch${t.kind}`, 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': gvk, parameters: QUERY, responses: {} },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.35.0' }, paths, components: { schemas: {} } };
}

/** The protobuf media type of the OpenAPI v2 document. */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

function field(no: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(no << 3) | 2, value.length]), value]);
}

/** openapi_v2.Document { swagger: "2.0", info: { title: "Kubernetes", version } } as protobuf bytes. */
export function openApiV2Document(version: string): Buffer {
  const info = Buffer.concat([field(1, Buffer.from('Kubernetes')), field(2, Buffer.from(version))]);
  return Buffer.concat([field(1, Buffer.from('2.0')), field(2, info)]);
}
