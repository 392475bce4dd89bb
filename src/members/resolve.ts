import { UsageError } from '../errors.js';
import { unknownName } from '../suggest.js';
import { findNode } from '../inventory/derive.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';

/** A node named on the command line: one of the inventory's, or a usage error that lists them. */
export function nodeNamed(inv: Inventory, name: string): NodeSpec {
  const node = findNode(inv, name);
  const names = inv.nodes.map((n) => n.name);
  if (!node) throw new UsageError(unknownName(`${name} is not in the inventory ${inv.file}`, name, names, `its nodes: ${names.join(', ')}`));
  return node;
}
