/**
 * Aligned IPv4 blocks taken from one address space, as a sparse binary trie over the
 * address bits: a node at depth d is a /d block, a missing child is a wholly free block and
 * a `taken` node a wholly allocated one. Each node knows the widest free block below it
 * (as the shortest prefix length), so finding the lowest free /p block inside a pool, taking
 * it and giving it back each cost O(32) steps, however many blocks are taken.
 */

interface BlockNode {
  taken: boolean;
  /** Shortest prefix length of a free aligned block under this node; NONE_FREE when there is none. */
  widestFree: number;
  zero?: BlockNode;
  one?: BlockNode;
}

const NONE_FREE = 33;

export interface BlockSet {
  root?: BlockNode;
}

export function emptyBlockSet(): BlockSet {
  return {};
}

const size = (prefix: number) => 2 ** (32 - prefix);
const bit = (network: number, depth: number) => Math.floor(network / size(depth + 1)) % 2;

function widestUnder(node: BlockNode | undefined, depth: number): number {
  if (!node) return depth;
  return node.taken ? NONE_FREE : node.widestFree;
}

function refresh(node: BlockNode, depth: number): void {
  node.widestFree = node.taken ? NONE_FREE : Math.min(widestUnder(node.zero, depth + 1), widestUnder(node.one, depth + 1));
}

/** Marks the block taken. Never throws: a block already inside a taken one stays as it is. */
export function takeBlock(set: BlockSet, network: number, prefix: number): void {
  set.root ??= { taken: false, widestFree: 0 };
  const path: BlockNode[] = [];
  let node = set.root;
  for (let depth = 0; depth < prefix; depth++) {
    if (node.taken) return;
    path.push(node);
    const side = bit(network, depth) === 0 ? 'zero' : 'one';
    node = node[side] ??= { taken: false, widestFree: depth + 1 };
  }
  node.taken = true;
  delete node.zero;
  delete node.one;
  refresh(node, prefix);
  for (let depth = path.length - 1; depth >= 0; depth--) refresh(path[depth]!, depth);
}

/** Gives a taken block back; a block that was not taken changes nothing. */
export function freeBlock(set: BlockSet, network: number, prefix: number): void {
  const path: BlockNode[] = [];
  let node = set.root;
  for (let depth = 0; depth < prefix && node; depth++) {
    path.push(node);
    node = bit(network, depth) === 0 ? node.zero : node.one;
  }
  if (!node?.taken || path.length !== prefix) return;
  // Remove the node and every ancestor left with nothing under it.
  for (let depth = prefix - 1; depth >= 0; depth--) {
    const parent = path[depth]!;
    const side = bit(network, depth) === 0 ? 'zero' : 'one';
    if (depth === prefix - 1 || !parent[side]?.zero && !parent[side]?.one && !parent[side]?.taken) delete parent[side];
    refresh(parent, depth);
  }
  if (set.root && !set.root.zero && !set.root.one && !set.root.taken) delete set.root;
}

/**
 * The lowest free aligned /prefix block inside the pool (network/poolPrefix) starting at or
 * after `from`; undefined when there is none.
 */
export function lowestFreeBlock(set: BlockSet, pool: { network: number; prefix: number }, prefix: number, from = pool.network): number | undefined {
  if (prefix < pool.prefix || prefix > 32) return undefined;
  // Down to the pool's own node; a taken ancestor means the whole pool is taken.
  let node = set.root;
  for (let depth = 0; depth < pool.prefix && node; depth++) {
    if (node.taken) return undefined;
    node = bit(pool.network, depth) === 0 ? node.zero : node.one;
  }
  return search(node, pool.prefix, pool.network, prefix, from);
}

function search(node: BlockNode | undefined, depth: number, network: number, prefix: number, from: number): number | undefined {
  const end = network + size(depth);
  if (end <= from) return undefined;
  if (!node) {
    // Wholly free: the first aligned block at or after `from`.
    const start = Math.max(network, Math.ceil(from / size(prefix)) * size(prefix));
    return start + size(prefix) <= end ? start : undefined;
  }
  if (node.taken || node.widestFree > prefix || depth === prefix) return undefined;
  return search(node.zero, depth + 1, network, prefix, from) ?? search(node.one, depth + 1, network + size(depth + 1), prefix, from);
}
