// Owns how an ApplyConfiguration payload is validated into a machine configuration, with Talos' error codes
// (Unknown for a document that does not parse, InvalidArgument for one that does not validate).
import { ConfigInvalid, parseMachineConfig, type SimMachineConfig } from '../config.js';
import { fail, S } from './types.js';

export function validateConfig(data: Buffer | undefined): { config: SimMachineConfig; warnings: string[] } {
  try {
    return parseMachineConfig((data ?? Buffer.alloc(0)).toString('utf8'));
  } catch (e) {
    if (e instanceof ConfigInvalid) throw fail(e.parse ? S.UNKNOWN : S.INVALID_ARGUMENT, e.message);
    throw e;
  }
}
