import { readdir, writeFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { hostAddress, type LabNet } from './plan.js';
import { exists, linkExists, linkMaster, run } from './sys.js';

/**
 * The lab's bridge: one /24, the host at .1, no NAT, no forwarding, no gateway on the nodes. The bridge is
 * the only host interface the lab creates, changes or deletes (besides the nodes' veths, which nspawn makes).
 */

export async function bridgePorts(bridge: string): Promise<string[]> {
  return readdir(`/sys/class/net/${bridge}/brif`).catch(() => [] as string[]);
}

/** Refuses a subnet that is already on some other interface (it would steal or leak lab traffic). */
async function checkSubnetFree(net: LabNet): Promise<void> {
  const r = await run('ip', ['-j', '-4', 'addr', 'show'], { allowFail: true });
  let links: { ifname: string; addr_info?: { local: string }[] }[] = [];
  try {
    links = JSON.parse(r.stdout || '[]');
  } catch {
    return;
  }
  for (const l of links) {
    if (l.ifname === net.bridge) continue;
    for (const a of l.addr_info ?? []) {
      if (a.local.startsWith(`${net.prefix}.`)) {
        throw new UsageError(`${net.prefix}.0/24 is already used by ${l.ifname} (${a.local}); choose another --subnet for the lab`);
      }
    }
  }
}

export async function ensureBridge(net: LabNet): Promise<boolean> {
  if (await linkExists(net.bridge)) {
    const kind = await exists(`/sys/class/net/${net.bridge}/bridge`);
    if (!kind) throw new UsageError(`${net.bridge} exists and is not a bridge; the lab will not touch it (use --bridge)`);
    await run('ip', ['addr', 'replace', `${hostAddress(net)}/24`, 'dev', net.bridge]);
    await run('ip', ['link', 'set', net.bridge, 'up']);
    return false;
  }
  await checkSubnetFree(net);
  await run('ip', ['link', 'add', 'name', net.bridge, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
  // IPv4 only: no link-local IPv6 chatter, and nothing that could be routed anywhere.
  await writeFile(`/proc/sys/net/ipv6/conf/${net.bridge}/disable_ipv6`, '1').catch(() => undefined);
  await run('ip', ['addr', 'add', `${hostAddress(net)}/24`, 'dev', net.bridge]);
  await run('ip', ['link', 'set', net.bridge, 'up']);
  return true;
}

/** Deletes the bridge unless something that is not the lab's still hangs on it. Returns what it did. */
export async function removeBridge(bridge: string, ours: string[]): Promise<'removed' | 'absent' | string[]> {
  if (!(await linkExists(bridge))) return 'absent';
  if (!(await exists(`/sys/class/net/${bridge}/bridge`))) return 'absent';
  for (const port of await bridgePorts(bridge)) {
    if (ours.includes(port)) await run('ip', ['link', 'del', port], { allowFail: true });
  }
  const foreign = await bridgePorts(bridge);
  if (foreign.length) return foreign;
  await run('ip', ['link', 'del', bridge]);
  return 'removed';
}

/** Cuts a node's link: the host side of its veth goes down (the node keeps its address; see .network). */
export async function setVethUp(veth: string, up: boolean): Promise<void> {
  await run('ip', ['link', 'set', veth, up ? 'up' : 'down']);
}

export async function vethAttached(veth: string, bridge: string): Promise<boolean> {
  return (await linkMaster(veth)) === bridge;
}
