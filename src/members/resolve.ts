import { UsageError } from '../errors.js';
import { findNode } from '../inventory/derive.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';

/** A node named on the command line: one of the inventory's, or a usage error that lists them. */
export function nodeNamed(inv: Inventory, name: string): NodeSpec {
  const node = findNode(inv, name);
  if (!node) throw new UsageError(`${name} is not in the inventory ${inv.file} (its nodes: ${inv.nodes.map((n) => n.name).join(', ')})`);
  return node;
}
