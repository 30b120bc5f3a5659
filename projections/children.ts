/**
 * Children of a parent, by the parent's key: the shape of every index of the view that
 * answers "which ones belong to this" where the parent holds no set of its own (a device's
 * ports, a scope's resources, a port's forwards and load balancers). A parent without
 * children has no entry, so an index costs only what it holds, and a lookup O(its answer).
 */
export type Children = Map<string, Set<string>>;

const NONE: ReadonlySet<string> = new Set();

/** Links a child to its parent (add) or unlinks it; the parent's entry goes with its last child. */
export function indexChild(index: Children, parent: string, child: string, add: boolean): void {
  const children = index.get(parent);
  if (add) {
    if (children) children.add(child);
    else index.set(parent, new Set([child]));
  } else if (children?.delete(child) && children.size === 0) {
    index.delete(parent);
  }
}

export function childrenOf(index: ReadonlyMap<string, ReadonlySet<string>>, parent: string): ReadonlySet<string> {
  return index.get(parent) ?? NONE;
}
