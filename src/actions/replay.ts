// Owns `cloudlab sim --replay FILE` as a use case: the transcript played against the simulator as the recorded
// release, and the report of the differences. Its own module, apart from --record (actions/record.ts): whatever
// imports this loads the Proxmox simulator, which apply, plan and doctor must not pay for at start-up.
import { resolve } from 'node:path';
import { formatReplayReport, readTranscript, replayTranscript } from '../sim/replay.js';

export { formatReplayReport };

/** The transcript at `file` played against the simulators as the recorded releases (or the Proxmox VE / Talos
 * releases given); the differences. */
export async function replayTranscriptFile(file: string, cwd: string, releases: { version?: string; talosVersion?: string } = {}) {
  return replayTranscript(readTranscript(resolve(cwd, file)), releases);
}
