import { peerUrl } from '../inventory/derive.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';

/**
 * `--initial-cluster` for a node joining the cluster whose member list (after its `member add`) is `members`:
 * inventory nodes first, in inventory order (so that it reads as the inventory's when every node is a member),
 * then members the inventory does not list, under their name or else their ID; every peer URL of each member.
 * `node` (a replacement, added before its member list is read again): members never started and the node's old
 * member are left out, and the node itself is put in with its inventory peer URL. Pure.
 */
export function joiningCluster(inv: Inventory, members: { id: string; name: string; peerURLs: string[] }[], node?: NodeSpec): string {
  const joining = node
    ? [...members.filter((m) => m.name && m.name !== node.name && !m.peerURLs.includes(peerUrl(node))), { id: '', name: node.name, peerURLs: [peerUrl(node)] }]
    : members;
  const named = inv.nodes.flatMap((n) => {
    const m = joining.find((x) => x.peerURLs.includes(peerUrl(n)));
    return m ? m.peerURLs.map((u) => `${n.name}=${u}`) : [];
  });
  const others = joining.filter((m) => !inv.nodes.some((n) => m.peerURLs.includes(peerUrl(n)))).flatMap((m) => m.peerURLs.map((u) => `${m.name || m.id}=${u}`));
  return [...named, ...others].join(',');
}
