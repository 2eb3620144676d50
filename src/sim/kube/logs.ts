// Owns the simulated containers' logs: what a modelled program printed, by pod UID, served by the pods/log
// subresource as text/plain (`kubectl logs`, cloudlab's failure reports). Pods whose program is not modelled log nothing.
const logs = new Map<string, string>();

export function setPodLog(uid: string, text: string): void {
  logs.set(uid, text.endsWith('\n') || text === '' ? text : `${text}\n`);
}

export function podLog(uid: string, tailLines?: number): string {
  const text = logs.get(uid) ?? '';
  if (tailLines === undefined) return text;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-tailLines).map((l) => `${l}\n`).join('');
}
