import { shq, type Remote } from '../ssh/remote.js';

/** Node clock minus ours, from one `date` between two local readings. */
export async function clockOffset(remote: Remote): Promise<number | undefined> {
  const t0 = Date.now();
  const r = await remote.run('date +%s%N', { timeoutMs: 5000 });
  const t1 = Date.now();
  const remoteMs = Number(r.stdout.trim()) / 1e6;
  return Number.isFinite(remoteMs) && r.code === 0 ? remoteMs - (t0 + t1) / 2 : undefined;
}

/** TCP connects from the node to every other member's peer and client port (bash's /dev/tcp: no tool needed). */
export function portsScript(targets: string[]): string {
  return targets
    .map((t) => {
      const [host, port] = t.split(':');
      return `if timeout 2 bash -c ${shq(`</dev/tcp/${host}/${port}`)} 2>/dev/null; then echo "PORT ${t} ok"; else echo "PORT ${t} fail"; fi`;
    })
    .join('\n');
}

