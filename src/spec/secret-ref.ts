// Owns the spec's secret reference shape: a value named by its key in the SOPS-encrypted secrets file or by an
// environment variable, never written inline (used by the cluster schema and the platform section alike).
import * as z from 'zod';

export const secretRef = z
  .strictObject({
    fromSecret: z.string().min(1).optional().describe('Key (dotted path) in the cluster secrets file (secrets.enc.yaml).'),
    fromEnv: z.string().min(1).optional().describe('Name of an environment variable holding the value.'),
  })
  .describe('Where a secret comes from. Secrets are never written inline in the spec.');
