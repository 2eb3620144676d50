// Owns bounded concurrency and retry timing for the Proxmox client: a FIFO semaphore and jittered backoff.

export class Semaphore {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  constructor(readonly max: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.queue.push(r));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** Exponential backoff with ±25 % jitter: base · factor^attempt, capped. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, factor = 2, rnd: () => number = Math.random): number {
  const raw = Math.min(maxMs, baseMs * factor ** attempt);
  return Math.max(1, Math.round(raw * (0.75 + rnd() * 0.5)));
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
