// Generates large specs for benchmarks: N hosts, M nodes, static addressing in a /16.
export function largeSpec(hosts: number, nodes: number): string {
  const cps = 3;
  const workers = nodes - cps;
  const lines = [
    'apiVersion: cloudlab.dev/v1alpha1',
    'kind: Cluster',
    'name: big',
    'versions:',
    '  talos: v1.12.6',
    'proxmox:',
    '  endpoint: https://pve.example:8006',
    '  tokenId: cloudlab@pve!bench',
    '  hosts:',
  ];
  for (let i = 1; i <= hosts; i++) lines.push(`    - name: pve${i}`, `      capacity: { cores: ${64 + (i % 3) * 32}, memory: ${256 + (i % 3) * 128}GiB }`);
  lines.push('network:', '  cidr: 10.10.0.0/16', '  gateway: 10.10.0.1', '  vip: 10.10.0.5', '  offsets: { controlplane: 10, worker: 100 }');
  lines.push('controlPlane:', `  count: ${cps}`, '  cores: 4', '  memory: 8GiB');
  lines.push('workers:', '  - name: w', `    count: ${workers}`, '    cores: 2', '    memory: 4GiB', '    disk: 20GiB');
  return lines.join('\n') + '\n';
}
