// Owns bounded concurrency and retry timing for the Proxmox client: the FIFO semaphore and jittered backoff
// of core/wait.ts, and the pause between retries.
import { sleep } from '../../core/wait.js';

export { Semaphore, backoffMs } from '../../core/wait.js';

export function delay(ms: number): Promise<void> {
  return sleep(ms);
}
