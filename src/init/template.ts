// Owns the cluster.yaml `cloudlab init` writes: the shipped example of the chosen template with the user's answers
// (name, Proxmox endpoint, token id, hosts, network) set in place, comments kept, and a schema comment that points
// into the installed package from the new file's directory.
import { readFileSync } from 'node:fs';
import { dirname, relative, sep } from 'node:path';
import { isMap, isSeq, parseDocument, YAMLMap } from 'yaml';
import { invalidInput } from '../core/errors.js';
import { packagePath } from '../core/package-root.js';

export const TEMPLATES = ['single-node', 'ha', 'multi-host', 'simulated'] as const;
export type Template = (typeof TEMPLATES)[number];

export interface InitAnswers {
  name?: string;
  endpoint?: string;
  tokenId?: string;
  /** Proxmox node names. */
  hosts?: string[];
  /** `dhcp`, or a CIDR (static addresses) with the gateway. */
  network?: string;
  gateway?: string;
}

/** What the template itself says, offered as defaults when asking. */
export function templateDefaults(template: Template): Required<Omit<InitAnswers, 'gateway'>> & { gateway?: string } {
  const doc = parseDocument(readFileSync(examplePath(template), 'utf8'));
  const hosts = doc.getIn(['proxmox', 'hosts']);
  const mode = String(doc.getIn(['network', 'mode']) ?? 'dhcp');
  const gateway = doc.getIn(['network', 'gateway']);
  return {
    name: String(doc.get('name')),
    endpoint: String(doc.getIn(['proxmox', 'endpoint'])),
    tokenId: String(doc.getIn(['proxmox', 'tokenId'])),
    hosts: isSeq(hosts) ? hosts.items.map((h) => String((h as YAMLMap).get('name'))) : [],
    network: mode === 'dhcp' ? 'dhcp' : String(doc.getIn(['network', 'cidr'])),
    ...(gateway ? { gateway: String(gateway) } : {}),
  };
}

export function examplePath(template: Template): string {
  return packagePath('examples', `${template}.yaml`);
}

export function parseTemplate(text: string): Template {
  if ((TEMPLATES as readonly string[]).includes(text)) return text as Template;
  throw invalidInput('INIT_TEMPLATE', `unknown template "${text}"`, [], `choose one of ${TEMPLATES.join(', ')}`);
}

/** The schema comment for a spec written at `specFile`: a relative path into the installed package. */
export function schemaComment(specFile: string): string {
  const rel = relative(dirname(specFile), packagePath('schema', 'cluster.schema.json')).split(sep).join('/');
  return `yaml-language-server: $schema=${rel}`;
}

/** Renders cluster.yaml for `specFile` from the template and the answers. */
export function renderSpec(template: Template, answers: InitAnswers, specFile: string): string {
  const doc = parseDocument(readFileSync(examplePath(template), 'utf8'));
  // The example's leading comment (on the document or its first key) starts with a schema comment relative to
  // examples/: replace it with one relative to the new file, and say where the file came from.
  const first = isMap(doc.contents) ? doc.contents.items[0]?.key : undefined;
  const holder = (doc.commentBefore ? doc : (first as { commentBefore?: string | null } | undefined)) ?? doc;
  const lines = (holder.commentBefore ?? '').split('\n').filter((l) => !l.trimStart().startsWith('yaml-language-server:'));
  holder.commentBefore = null;
  doc.commentBefore = [` ${schemaComment(specFile)}`, ` Written by \`cloudlab init --template ${template}\`: check it with \`cloudlab validate\`, preview with \`cloudlab plan --offline\`.`, ...lines.map((l) => l.replace(/^ Seed \d+: /, ' '))].join('\n');
  if (answers.name) doc.set('name', answers.name);
  if (answers.endpoint) doc.setIn(['proxmox', 'endpoint'], answers.endpoint);
  if (answers.tokenId) doc.setIn(['proxmox', 'tokenId'], answers.tokenId);
  if (answers.hosts?.length) {
    const hosts = doc.getIn(['proxmox', 'hosts']);
    if (!isSeq(hosts) || !hosts.items.length) throw invalidInput('INIT_TEMPLATE', `template ${template} has no proxmox.hosts to fill`);
    const first = hosts.items[0] as YAMLMap;
    const items = answers.hosts.map((name, i) => {
      const existing = hosts.items[i];
      const item = (isMap(existing) ? existing : first).clone() as YAMLMap;
      item.set('name', name);
      return item;
    });
    hosts.items = items;
  }
  if (answers.network) {
    if (answers.network === 'dhcp') {
      const net = new YAMLMap();
      net.set('mode', 'dhcp');
      doc.set('network', net);
      // Static node addresses make no sense under DHCP.
      doc.deleteIn(['controlPlane', 'nodes']);
    } else {
      doc.setIn(['network', 'mode'], 'static');
      doc.setIn(['network', 'cidr'], answers.network);
      if (answers.gateway) doc.setIn(['network', 'gateway'], answers.gateway);
      for (const k of ['vip', 'nameservers']) doc.deleteIn(['network', k]);
      if (answers.gateway) doc.setIn(['network', 'nameservers'], doc.createNode([answers.gateway], { flow: true }));
      doc.deleteIn(['controlPlane', 'nodes']);
    }
  }
  return doc.toString({ lineWidth: 0 });
}
