// Owns what differs between Proxmox VE releases in the simulator (`cloudlab sim --pve-version X.Y.Z`), each
// fact with the upstream change that introduced it: which endpoints and parameters exist, and what
// `download-url` accepts into the `import` content type, and whether an error's text is in the JSON body.
import { compareVersions } from '../../providers/proxmox/versions.js';
import { SimHttpError } from './http-error.js';

export { compareVersions };

/** The releases the simulator answers as (GET /version); anything in between behaves like the one below it. */
export const SUPPORTED_SIM_VERSIONS = ['8.0.4', '8.1.4', '8.2.7', '8.3.5', '8.4.1', '9.0.6', '9.1.2'] as const;

export const atLeast = (version: string, min: string): boolean => compareVersions(version, min) >= 0;

/**
 * pve-manager 4448f8d3 "fix #1148: api: pools: support nested pools" (2023-11-20, pve-manager 8.1.0): pool ids may
 * contain `/`, so `GET /pools` takes `poolid`, and `PUT`/`DELETE /pools?poolid=` appear; `/pools/{poolid}` stays
 * (documented as deprecated).
 */
export const NESTED_POOLS = '8.1.0';
/** The `import` storage content type (ESXi/OVA import) first shipped with PVE 8.2; 8.0/8.1 storages cannot carry it. */
export const IMPORT_CONTENT_TYPE = '8.2.0';
/** pve-docs cc9dad4 (2024-11-20, PVE 8.3): `download-url` `content` enum gains `import` (was `iso|vztmpl`). */
export const DOWNLOAD_IMPORT_CONTENT = '8.3.0';
/**
 * pve-storage 76f695f "import: allow upload of guest images files into import storage" (2025-04-07,
 * libpve-storage-perl 8.3.6 = PVE 8.4): the import extension pattern grows from `ova` to `ova|qcow2|raw|vmdk`.
 */
export const IMPORT_DISK_IMAGES = '8.4.0';

/**
 * pve-http-server 9a2112e "fix #6503: return api handler errors in the json body" (2025-01-08, released in
 * libpve-http-server-perl 5.2.0 on 2025-01-28; src/PVE/APIServer/Formatter/Standard.pm prepare_response_data): from
 * then on an error body is `{"data":null,"message":"<msg>",…}`. Before it the json formatter wrote only `data` (and
 * `errors`), and the text was only in the reason phrase of the status line (src/PVE/APIServer/AnyEvent.pm
 * `response`: `HTTP/1.1 <code> <first line of the message>`). The first release whose installer ships 5.2 is 8.4
 * (5.2.2); an 8.3 node has it only once updated after 2025-01-28, so the simulator answers 8.3 the old way.
 */
export const ERROR_MESSAGE_IN_BODY = '8.4.0';

/** Whether a release writes an error's text into the JSON body (`message`), not only into the reason phrase. */
export function errorMessageInBody(version: string): boolean {
  return atLeast(version, ERROR_MESSAGE_IN_BODY);
}

/** Endpoints a release does not have yet: the router answers them like an unknown method (501). */
export function routeMissing(routeKey: string, version: string): boolean {
  if ((routeKey === 'DELETE /pools' || routeKey === 'PUT /pools') && !atLeast(version, NESTED_POOLS)) return true;
  return false;
}

/** Parameters a release does not know yet: the 400 its schema validation gives. */
export function checkVersionParams(routeKey: string, version: string, params: Record<string, unknown>): void {
  if (routeKey === 'GET /pools' && params.poolid !== undefined && !atLeast(version, NESTED_POOLS)) {
    throw new SimHttpError(400, 'Parameter verification failed.', { poolid: 'property is not defined in schema and the schema does not allow additional properties' });
  }
  if (routeKey === 'GET /pools' && params.type !== undefined && !atLeast(version, NESTED_POOLS)) {
    throw new SimHttpError(400, 'Parameter verification failed.', { type: 'property is not defined in schema and the schema does not allow additional properties' });
  }
  if (routeKey === 'POST /nodes/{node}/storage/{storage}/download-url' && params.content === 'import' && !atLeast(version, DOWNLOAD_IMPORT_CONTENT)) {
    throw new SimHttpError(400, 'Parameter verification failed.', { content: "value 'import' does not have a value in the enumeration 'iso, vztmpl'" });
  }
}

/** The file extensions `download-url` accepts into `import` content on a release (pve-storage `UPLOAD_IMPORT_EXT_RE_1`). */
export function importExtensions(version: string): RegExp {
  return atLeast(version, IMPORT_DISK_IMAGES) ? /^[a-zA-Z0-9\-.+=_]+\.(ova|qcow2|raw|vmdk)$/ : /^[a-zA-Z0-9\-.+=_]+\.(ova)$/;
}

/** A `--pve-version` value the simulator can answer as: X.Y.Z within 8.0–9.x. */
export function validSimVersion(v: string): boolean {
  return /^\d+\.\d+\.\d+$/.test(v) && atLeast(v, '8.0.0') && compareVersions(v, '10.0.0') < 0;
}
