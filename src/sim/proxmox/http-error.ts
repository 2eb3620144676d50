// Owns the simulated Proxmox API's error answer: an HTTP status, the message (reason phrase / body) and, for a
// parameter check, the per-parameter errors — thrown by the engine, the handlers and the per-release checks.
export class SimHttpError extends Error {
  constructor(readonly status: number, message: string, readonly errors?: Record<string, string>) {
    super(message);
  }
}
