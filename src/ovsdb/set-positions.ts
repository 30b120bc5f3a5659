import type { Atom } from './types.js';

/**
 * A large set's array changed in place, with where each element is: an open-addressing hash
 * table (linear probing, at most half full) of each element's index + 1 in an Int32Array, 8–16
 * B an element as it grows (up to 32 after removals, before it shrinks). A `Map` of element → index took ~54 B an element, and a port is in three such
 * sets (its switch, its VPC's drop group, its security group): 0.16 KiB a port. A removal moves
 * the array's last element into the freed place, so every change is O(1) and the array keeps
 * the order a Map-indexed one had.
 */
export class SetPositions {
  readonly #set: Atom[];
  /** Per slot: the index + 1 of the element that hashes there or was pushed along, 0 if empty. */
  #slots: Int32Array;
  #mask: number;

  constructor(set: Atom[]) {
    this.#set = set;
    this.#slots = new Int32Array(capacity(set.length));
    this.#mask = this.#slots.length - 1;
    for (let i = 0; i < set.length; i++) this.#place(set[i]!, i);
  }

  /** Adds the atom when absent, else removes it: true if it was added. */
  toggle(atom: Atom): boolean {
    const set = this.#set;
    const slot = this.#find(atom);
    if (slot < 0) {
      set.push(atom);
      if (set.length * 2 > this.#slots.length) this.#resize();
      else this.#place(atom, set.length - 1);
      return true;
    }
    const at = this.#slots[slot]! - 1;
    // Vacated while the array still matches the table: the shift reads the elements it moves.
    this.#vacate(slot);
    const last = set.pop()!;
    if (at < set.length) {
      set[at] = last;
      this.#slots[this.#slotOf(last, set.length)] = at + 1;
    }
    if (set.length * 8 < this.#slots.length && this.#slots.length > MIN_SLOTS) this.#resize();
    return false;
  }

  #find(atom: Atom): number {
    const slots = this.#slots;
    const mask = this.#mask;
    for (let h = hash(atom) & mask; ; h = (h + 1) & mask) {
      const s = slots[h]!;
      if (s === 0) return -1;
      if (this.#set[s - 1] === atom) return h;
    }
  }

  /** The slot holding `index` for an element at it. */
  #slotOf(atom: Atom, index: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    let h = hash(atom) & mask;
    while (slots[h] !== index + 1) h = (h + 1) & mask;
    return h;
  }

  #place(atom: Atom, index: number): void {
    const slots = this.#slots;
    const mask = this.#mask;
    let h = hash(atom) & mask;
    while (slots[h] !== 0) h = (h + 1) & mask;
    slots[h] = index + 1;
  }

  /** Empties a slot and moves back each later entry of its run that may no longer be found past the gap. */
  #vacate(slot: number): void {
    const slots = this.#slots;
    const mask = this.#mask;
    let gap = slot;
    slots[gap] = 0;
    for (let j = (gap + 1) & mask; slots[j] !== 0; j = (j + 1) & mask) {
      const home = hash(this.#set[slots[j]! - 1]!) & mask;
      // An entry whose home slot lies cyclically in (gap, j] is found before the gap: it stays.
      const stays = gap <= j ? gap < home && home <= j : gap < home || home <= j;
      if (stays) continue;
      slots[gap] = slots[j]!;
      slots[j] = 0;
      gap = j;
    }
  }

  #resize(): void {
    this.#slots = new Int32Array(capacity(this.#set.length));
    this.#mask = this.#slots.length - 1;
    for (let i = 0; i < this.#set.length; i++) this.#place(this.#set[i]!, i);
  }
}

const MIN_SLOTS = 64;

/** The table's size for a set of n: a power of two, at least twice n, 4n when just resized (room to grow). */
function capacity(n: number): number {
  let slots = MIN_SLOTS;
  while (slots < n * 4) slots *= 2;
  return slots;
}

/**
 * FNV-1a of the atom's text, then murmur3's finaliser so the low bits (the slot) spread. A
 * UUID is hashed by its first and last eight characters: they are random (its middle holds the
 * version), and hashing all 36 made a change ~3× a Map's. Any other text is hashed whole: texts
 * sharing their ends (`net-00000123-external`) would all fall into one probe run.
 */
function hash(atom: Atom): number {
  const text = typeof atom === 'string' ? atom : `${typeof atom}:${String(atom)}`;
  const n = text.length;
  let h = Math.imul(0x811c9dc5 ^ n, 0x01000193);
  if (!looksLikeUuid(text)) for (let i = 0; i < n; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  else {
    for (let i = 0; i < 8; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    for (let i = n - 8; i < n; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function looksLikeUuid(text: string): boolean {
  return text.length === 36 && text.charCodeAt(8) === 45 && text.charCodeAt(13) === 45 && text.charCodeAt(18) === 45 && text.charCodeAt(23) === 45;
}
