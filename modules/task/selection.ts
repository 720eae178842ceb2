// Weighted random selection over chain state in O(log n) store operations (Crynux's weighted node selection,
// ARCHITECTURE.md "weighted random selection in O(log n) over any number of nodes").
//
// Structure: a Fenwick (binary-indexed) tree over dense slots 1..n. Each member occupies one slot;
// the cumulative distribution runs over the slots in slot order, so member k owns the integer
// range [prefix(k-1), prefix(k)). A Fenwick tree was chosen over a heap-shaped sum tree because a
// pick then reads one key per level (the heap needs the node and its left child) and insertions
// append without reshaping anything. Slots stay dense: removing a member moves the member in the
// last slot into the hole, so n slots always hold exactly n members and a pick reads at most
// floor(log2 n) + 1 tree nodes whatever the history. Slot order is a function of the operation
// history alone, identical on every validator; which member a given r selects depends on it, but
// each member's probability weight/total does not.
//
// Nothing is cached in memory between calls: every call reads what it needs from the store, so a
// WeightedSet is valid over any KVStore (a module's prefix store, a CacheStore overlay of a
// transaction that may be dropped, state reopened after a restart).
//
// Key layout inside the given store (the store must be dedicated to this set; one-byte collection
// prefix, slots as 4-byte big-endian so key order is slot order):
//   0x00                    -> u32be(n) || uint(total)                     absent when the set is empty
//   0x01 || id              -> u32be(slot)                                 member index
//   0x02 || u32be(slot)     -> u8(len(id)) || id || uint(weight)           slot 1..n
//   0x03 || u32be(i)        -> uint(sum of weights of slots (i - lowbit(i), i])   Fenwick node 1..n
// uint(x) is the minimal big-endian encoding of a non-negative integer (0 = no bytes, no leading
// zero byte). Weights stored are always >= 1 (weight 0 means "not a member"), so every Fenwick node
// and total is >= 1 too; reads check all of this and throw CorruptStateError otherwise.
//
// Only bigint and integer arithmetic below: no floating point, no clock, no Math.random.
import { hash as oneShotHash } from 'node:crypto'
import type { KVStore } from '../../chain/store/types.ts'

const META = 0x00
const INDEX = 0x01
const SLOT = 0x02
const TREE = 0x03

/** Slots are u32 on disk; capped at 2^31 - 1 so `i & -i` (32-bit signed in JS) stays exact. */
export const MAX_MEMBERS = 0x7fffffff
/** Ids are stored with a one-byte length. */
export const MAX_ID_LENGTH = 255

/** The stored state contradicts the structure's invariants (a bug or tampered state, never user input). */
export class CorruptStateError extends Error {
  constructor(detail: string) {
    super(`weighted set: corrupt state: ${detail}`)
    this.name = 'CorruptStateError'
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

/** Minimal big-endian bytes of x >= 0 (0 encodes as no bytes). */
export function encodeUint(x: bigint): Uint8Array {
  if (x < 0n) throw new RangeError(`weighted set: cannot encode negative ${x}`)
  if (x === 0n) return new Uint8Array()
  let h = x.toString(16)
  if (h.length & 1) h = '0' + h
  return new Uint8Array(Buffer.from(h, 'hex'))
}

/** Inverse of encodeUint; rejects non-canonical encodings so one value has one byte string (state is hashed). */
export function decodeUint(b: Uint8Array, what: string): bigint {
  if (b.length > 0 && b[0] === 0) throw new CorruptStateError(`${what} has a leading zero byte`)
  return bytesToBigint(b)
}

/**
 * Big-endian bytes to bigint. Hot path of every pick: up to 6 bytes at a time in an
 * integer-valued number (exact below 2^53), then into the bigint, which costs less than going
 * through a hex string.
 */
function bytesToBigint(b: Uint8Array): bigint {
  let x = 0n
  let i = 0
  const head = b.length % 6
  for (let end = head === 0 ? 6 : head; i < b.length; end = i + 6) {
    let chunk = 0
    for (; i < end; i++) chunk = chunk * 256 + b[i]!
    x = i <= 6 ? BigInt(chunk) : (x << 48n) | BigInt(chunk)
  }
  return x
}

// Big-endian u32 by hand: a DataView per key costs more than the rest of a tree step.
const putU32 = (out: Uint8Array, at: number, n: number): void => {
  out[at] = n >>> 24
  out[at + 1] = (n >>> 16) & 0xff
  out[at + 2] = (n >>> 8) & 0xff
  out[at + 3] = n & 0xff
}
const u32 = (n: number): Uint8Array => {
  const out = new Uint8Array(4)
  putU32(out, 0, n)
  return out
}
const readU32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) >>> 0) + (b[at + 1]! << 16) + (b[at + 2]! << 8) + b[at + 3]!

const metaKey = Uint8Array.of(META)
const indexKey = (id: Uint8Array): Uint8Array => {
  const k = new Uint8Array(1 + id.length)
  k[0] = INDEX
  k.set(id, 1)
  return k
}
const slotKey = (slot: number): Uint8Array => {
  const k = new Uint8Array(5)
  k[0] = SLOT
  putU32(k, 1, slot)
  return k
}
const treeKey = (i: number): Uint8Array => {
  const k = new Uint8Array(5)
  k[0] = TREE
  putU32(k, 1, i)
  return k
}

const lowbit = (i: number): number => i & -i

function decodeSlot(slot: number, v: Uint8Array): SlotRecord {
  const len = v[0] ?? 0
  if (len === 0 || v.length < 2 + len) throw new CorruptStateError(`slot ${slot} record is malformed`)
  const weight = decodeUint(v.subarray(1 + len), `weight of slot ${slot}`)
  if (weight === 0n) throw new CorruptStateError(`slot ${slot} has weight 0`)
  return { id: v.slice(1, 1 + len), weight }
}

function checkId(id: Uint8Array): void {
  if (!(id instanceof Uint8Array)) throw new TypeError('weighted set: id must be a Uint8Array')
  if (id.length === 0 || id.length > MAX_ID_LENGTH) throw new RangeError(`weighted set: id length ${id.length} is outside [1, ${MAX_ID_LENGTH}]`)
}

interface Meta {
  size: number
  total: bigint
}
interface SlotRecord {
  id: Uint8Array
  weight: bigint
}
interface Excluded {
  slot: number
  weight: bigint
}

export interface Member {
  id: Uint8Array
  weight: bigint
}

/**
 * A set of members (byte-string ids) with positive integer weights, stored in a KVStore, that can
 * return the member owning any point of its cumulative weight in O(log n) reads.
 */
export class WeightedSet {
  constructor(private readonly store: KVStore) {}

  // ---- reads -------------------------------------------------------------------------------

  private meta(): Meta {
    const v = this.store.get(metaKey)
    if (v === undefined) return { size: 0, total: 0n }
    if (v.length < 5) throw new CorruptStateError(`meta record has ${v.length} bytes`)
    const size = readU32(v, 0)
    const total = decodeUint(v.subarray(4), 'total')
    if (size === 0 || size > MAX_MEMBERS) throw new CorruptStateError(`meta records size ${size}`)
    // Every weight is >= 1, so the total can never be below the member count.
    if (total < BigInt(size)) throw new CorruptStateError(`total ${total} is below the member count ${size}`)
    return { size, total }
  }

  private writeMeta(m: Meta): void {
    if (m.size === 0) {
      if (m.total !== 0n) throw new CorruptStateError(`empty set would keep total ${m.total}`)
      this.store.delete(metaKey)
      return
    }
    const t = encodeUint(m.total)
    const v = new Uint8Array(4 + t.length)
    v.set(u32(m.size))
    v.set(t, 4)
    this.store.set(metaKey, v)
  }

  private slotOf(id: Uint8Array, size: number): number | undefined {
    const v = this.store.get(indexKey(id))
    if (v === undefined) return undefined
    if (v.length !== 4) throw new CorruptStateError(`index entry of ${hex(id)} has ${v.length} bytes`)
    const slot = readU32(v, 0)
    if (slot < 1 || slot > size) throw new CorruptStateError(`index entry of ${hex(id)} points to slot ${slot} of ${size}`)
    return slot
  }

  private slot(slot: number): SlotRecord {
    const v = this.store.get(slotKey(slot))
    if (v === undefined) throw new CorruptStateError(`slot ${slot} is missing`)
    return decodeSlot(slot, v)
  }

  /** The slot record, checked to belong to `id` (index and slot must agree). */
  private slotFor(id: Uint8Array, slot: number): SlotRecord {
    const rec = this.slot(slot)
    if (Buffer.compare(rec.id, id) !== 0) throw new CorruptStateError(`index of ${hex(id)} points to slot ${slot} holding ${hex(rec.id)}`)
    return rec
  }

  private writeSlot(slot: number, id: Uint8Array, weight: bigint): void {
    const w = encodeUint(weight)
    const v = new Uint8Array(1 + id.length + w.length)
    v[0] = id.length
    v.set(id, 1)
    v.set(w, 1 + id.length)
    this.store.set(slotKey(slot), v)
  }

  private node(i: number): bigint {
    const v = this.store.get(treeKey(i))
    if (v === undefined) throw new CorruptStateError(`tree node ${i} is missing`)
    const x = decodeUint(v, `tree node ${i}`)
    if (x === 0n) throw new CorruptStateError(`tree node ${i} is 0`)
    return x
  }

  private writeNode(i: number, x: bigint): void {
    if (x <= 0n) throw new CorruptStateError(`tree node ${i} would become ${x}`)
    this.store.set(treeKey(i), encodeUint(x))
  }

  /** Sum of the weights of slots 1..i: one read per set bit of i. */
  private prefix(i: number): bigint {
    let s = 0n
    for (let j = i; j > 0; j -= lowbit(j)) s += this.node(j)
    return s
  }

  /** Adds delta to slot `slot`'s weight in every node covering it, among nodes 1..limit. */
  private addAt(slot: number, delta: bigint, limit: number): void {
    if (delta === 0n) return
    for (let j = slot; j <= limit; j += lowbit(j)) this.writeNode(j, this.node(j) + delta)
  }

  /**
   * The slot whose range contains r (0 <= r < sum of all weights): the Fenwick descent, which
   * finds the largest pos with prefix(pos) <= r by deciding one bit of pos per level.
   */
  private descend(r: bigint, size: number): number {
    let step = 1
    while (step * 2 <= size) step *= 2
    let pos = 0
    let rem = r
    for (; step > 0; step >>>= 1) {
      const next = pos + step
      if (next > size) continue
      const t = this.node(next)
      if (t <= rem) {
        pos = next
        rem -= t
      }
    }
    if (pos >= size) throw new CorruptStateError(`the tree sums to at most ${r} although the recorded total is larger`)
    return pos + 1
  }

  /** Number of members. One read. */
  size(): number {
    return this.meta().size
  }

  /** Sum of all weights. One read. */
  total(): bigint {
    return this.meta().total
  }

  /** The member's weight, 0 if it is not a member. Three reads. */
  weight(id: Uint8Array): bigint {
    checkId(id)
    const { size } = this.meta()
    const slot = this.slotOf(id, size)
    return slot === undefined ? 0n : this.slotFor(id, slot).weight
  }

  has(id: Uint8Array): boolean {
    return this.weight(id) > 0n
  }

  /**
   * The member whose cumulative range contains r, for 0 <= r < total(). Slot order defines the
   * ranges; with r uniform in [0, total) each member is returned with probability weight/total.
   * Reads: meta + at most floor(log2 n) + 1 tree nodes + the slot.
   */
  pick(r: bigint): Uint8Array {
    if (typeof r !== 'bigint') throw new TypeError('weighted set: r must be a bigint')
    const { size, total } = this.meta()
    if (size === 0) throw new Error('weighted set: cannot pick from an empty set')
    if (r < 0n || r >= total) throw new RangeError(`weighted set: r = ${r} is outside [0, ${total})`)
    return this.slot(this.descend(r, size)).id
  }

  /** The distinct members among `excluded`, in slot order, with their weights; non-members are ignored. */
  private resolveExcluded(excluded: readonly Uint8Array[], size: number): Excluded[] {
    const seen = new Set<string>()
    const out: Excluded[] = []
    for (const id of excluded) {
      checkId(id)
      const k = hex(id)
      if (seen.has(k)) continue
      seen.add(k)
      const slot = this.slotOf(id, size)
      if (slot !== undefined) out.push({ slot, weight: this.slotFor(id, slot).weight })
    }
    return out.sort((a, b) => a.slot - b.slot)
  }

  /** total() minus the weights of the (distinct, present) excluded members: the range of r for pickExcluding. */
  totalExcluding(excluded: readonly Uint8Array[]): bigint {
    const { size, total } = this.meta()
    let t = total
    for (const e of this.resolveExcluded(excluded, size)) t -= e.weight
    return t
  }

  /**
   * pick() over the set with `excluded` removed, for 0 <= r < totalExcluding(excluded); writes
   * nothing. Removing members from the distribution closes the gaps they leave in the cumulative
   * line, so r maps back to the full line by stepping over each excluded range that starts at or
   * before it, in order: r' = r + sum of weights of excluded ranges starting at or below r'. Cost:
   * O(k log n) reads for k excluded ids.
   */
  pickExcluding(r: bigint, excluded: readonly Uint8Array[]): Uint8Array {
    const { size, total } = this.meta()
    return this.pickResolved(r, size, total, this.resolveExcluded(excluded, size))
  }

  private pickResolved(r: bigint, size: number, total: bigint, ex: Excluded[]): Uint8Array {
    if (typeof r !== 'bigint') throw new TypeError('weighted set: r must be a bigint')
    if (size === 0) throw new Error('weighted set: cannot pick from an empty set')
    let remaining = total
    for (const e of ex) remaining -= e.weight
    if (remaining === 0n) throw new Error('weighted set: every member is excluded')
    if (r < 0n || r >= remaining) throw new RangeError(`weighted set: r = ${r} is outside [0, ${remaining}) (total excluding ${ex.length} members)`)
    let full = r
    for (const e of ex) {
      // The excluded ranges are disjoint and visited in line order, so `full` only ever moves right
      // past whole ranges and can never land inside one.
      const start = this.prefix(e.slot - 1)
      if (start > full) break
      full += e.weight
    }
    return this.slot(this.descend(full, size)).id
  }

  /**
   * One dispatch draw: a member chosen with probability proportional to its weight among the
   * members not in `excluded`, from `seed` (which the caller must make unique per draw, e.g. a
   * hash of the block's randomness and the task id). Undefined if nothing is left to choose.
   */
  draw(seed: Uint8Array, excluded: readonly Uint8Array[] = []): Uint8Array | undefined {
    const { size, total } = this.meta()
    if (size === 0) return undefined
    const ex = this.resolveExcluded(excluded, size)
    let remaining = total
    for (const e of ex) remaining -= e.weight
    if (remaining === 0n) return undefined
    return this.pickResolved(uniformBelow(seed, remaining), size, total, ex)
  }

  // ---- writes ------------------------------------------------------------------------------

  /** Inserts or updates `id` with `weight`; weight 0 removes it. O(log n) reads and writes. */
  set(id: Uint8Array, weight: bigint): void {
    checkId(id)
    if (typeof weight !== 'bigint' || weight < 0n) throw new RangeError(`weighted set: weight must be a non-negative bigint, got ${String(weight)}`)
    if (weight === 0n) {
      this.remove(id)
      return
    }
    const m = this.meta()
    const slot = this.slotOf(id, m.size)
    if (slot === undefined) {
      // Append at slot n+1. Its Fenwick node covers (n+1 - lowbit(n+1), n+1]: the new weight plus
      // the nodes that tile the rest of that range, which are already stored.
      const n = m.size + 1
      if (n > MAX_MEMBERS) throw new RangeError(`weighted set: full (${MAX_MEMBERS} members)`)
      let node = weight
      for (let j = n - 1, stop = n - lowbit(n); j > stop; j -= lowbit(j)) node += this.node(j)
      this.writeNode(n, node)
      this.writeSlot(n, id, weight)
      this.store.set(indexKey(id), u32(n))
      this.writeMeta({ size: n, total: m.total + weight })
      return
    }
    const old = this.slotFor(id, slot).weight
    if (old === weight) return
    this.addAt(slot, weight - old, m.size)
    this.writeSlot(slot, id, weight)
    this.writeMeta({ size: m.size, total: m.total - old + weight })
  }

  /** Removes `id`; returns whether it was a member. O(log n) reads and writes. */
  remove(id: Uint8Array): boolean {
    checkId(id)
    const m = this.meta()
    const slot = this.slotOf(id, m.size)
    if (slot === undefined) return false
    const w = this.slotFor(id, slot).weight
    const last = m.size
    if (slot !== last) {
      // Move the last member into the hole. The tree shrinks to nodes 1..n-1, which never cover
      // slot n, so only those nodes take the change of weight at `slot`; node n is dropped below.
      const moved = this.slot(last)
      this.addAt(slot, moved.weight - w, last - 1)
      this.writeSlot(slot, moved.id, moved.weight)
      this.store.set(indexKey(moved.id), u32(slot))
    }
    this.store.delete(treeKey(last))
    this.store.delete(slotKey(last))
    this.store.delete(indexKey(id))
    this.writeMeta({ size: last - 1, total: m.total - w })
    return true
  }

  // ---- whole-set views (O(n); genesis export, invariant checks, tests) ---------------------

  /** Members in slot order (the order of the cumulative line). */
  async *entries(): AsyncIterable<Member> {
    const { size } = this.meta()
    let expect = 1
    for await (const [k, v] of this.store.iterate({ start: Uint8Array.of(SLOT), end: Uint8Array.of(SLOT + 1) })) {
      if (k.length !== 5 || readU32(k, 1) !== expect) throw new CorruptStateError(`unexpected slot key ${hex(k)}`)
      yield decodeSlot(expect, v)
      expect++
    }
    if (expect - 1 !== size) throw new CorruptStateError(`${expect - 1} slots stored for ${size} members`)
  }

  /** Checks every invariant of the layout against the whole store; throws CorruptStateError on the first violation. */
  async checkInvariants(): Promise<void> {
    const { size, total } = this.meta()
    const weights: bigint[] = [0n]
    const ids = new Map<string, number>()
    for await (const m of this.entries()) {
      const k = hex(m.id)
      if (ids.has(k)) throw new CorruptStateError(`${k} occupies two slots`)
      ids.set(k, weights.length)
      weights.push(m.weight)
    }
    const prefix: bigint[] = [0n]
    for (let i = 1; i <= size; i++) prefix.push(prefix[i - 1]! + weights[i]!)
    if (prefix[size] !== total) throw new CorruptStateError(`weights sum to ${prefix[size]}, meta says ${total}`)
    let index = 0,
      nodes = 0
    for await (const [k, v] of this.store.iterate()) {
      switch (k[0]) {
        case META:
          if (k.length !== 1) throw new CorruptStateError(`unexpected key ${hex(k)}`)
          break
        case INDEX: {
          const id = k.subarray(1)
          const slot = v.length === 4 ? readU32(v, 0) : -1
          if (ids.get(hex(id)) !== slot) throw new CorruptStateError(`index entry of ${hex(id)} points to slot ${slot}`)
          index++
          break
        }
        case SLOT:
          break
        case TREE: {
          const i = k.length === 5 ? readU32(k, 1) : 0
          if (i < 1 || i > size) throw new CorruptStateError(`stray tree node key ${hex(k)}`)
          const want = prefix[i]! - prefix[i - lowbit(i)]!
          if (decodeUint(v, `tree node ${i}`) !== want) throw new CorruptStateError(`tree node ${i} is not ${want}`)
          nodes++
          break
        }
        default:
          throw new CorruptStateError(`unexpected key ${hex(k)} (the store must be dedicated to this set)`)
      }
    }
    if (index !== size) throw new CorruptStateError(`${index} index entries for ${size} members`)
    if (nodes !== size) throw new CorruptStateError(`${nodes} tree nodes for ${size} members`)
  }
}

/**
 * A uniform integer in [0, total) from `seed`, deterministic and exactly uniform (no modulo bias):
 * the stream sha256(seed || u32be(0)) || sha256(seed || u32be(1)) || ... is cut into candidates of
 * ceil(bits/8) bytes, bits = bit length of total-1, each masked to `bits` bits; the first candidate
 * below total is the answer. Each candidate is accepted with probability > 1/2. Domain separation is
 * the caller's job: the seed must already be specific to this draw.
 */
export function uniformBelow(seed: Uint8Array, total: bigint): bigint {
  if (typeof total !== 'bigint' || total <= 0n) throw new RangeError(`uniformBelow: total must be a positive bigint, got ${String(total)}`)
  if (total === 1n) return 0n
  const bits = (total - 1n).toString(2).length
  const bytes = (bits + 7) >> 3
  const mask = (1n << BigInt(bits)) - 1n
  const input = new Uint8Array(seed.length + 4)
  input.set(seed)
  const view = new DataView(input.buffer)
  let counter = 0
  let buf = new Uint8Array(0)
  for (;;) {
    while (buf.length < bytes) {
      if (counter > 0xffffffff) throw new Error('uniformBelow: counter exhausted') // probability ~2^-(2^32)
      view.setUint32(seed.length, counter++)
      const block = oneShotHash('sha256', input, 'buffer')
      const next = new Uint8Array(buf.length + block.length)
      next.set(buf)
      next.set(block, buf.length)
      buf = next
    }
    const candidate = bytesToBigint(buf.subarray(0, bytes)) & mask
    buf = buf.subarray(bytes)
    if (candidate < total) return candidate
  }
}
