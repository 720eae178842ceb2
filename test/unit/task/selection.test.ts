import { strict as assert } from 'node:assert'
import { createHash } from 'node:crypto'
import { prng } from '../../helpers/prng.ts'
import { CacheStore } from '../../../chain/store/cache.ts'
import { MemoryStore } from '../../../chain/store/memory.ts'
import { PrefixStore } from '../../../chain/store/prefix.ts'
import type { Key, KVStore, RangeOptions, Value } from '../../../chain/store/types.ts'
import { CorruptStateError, WeightedSet, decodeUint, encodeUint, uniformBelow } from '../../../modules/task/selection.ts'

// ---- helpers -------------------------------------------------------------------------------

const sha = (s: string): Uint8Array => new Uint8Array(createHash('sha256').update(s).digest())
/** A 20-byte node address. */
const addr = (i: number): Uint8Array => sha(`node-${i}`).subarray(0, 20)
const seedOf = (label: string, i: number): Uint8Array => sha(`${label}/${i}`)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const log2 = (n: number): number => Math.log2(n)

/** Counts the store operations a WeightedSet call makes. */
class CountingStore implements KVStore {
  reads = 0
  writes = 0
  constructor(private readonly inner: KVStore) {}
  reset(): void {
    this.reads = 0
    this.writes = 0
  }
  get(key: Key): Value | undefined {
    this.reads++
    return this.inner.get(key)
  }
  has(key: Key): boolean {
    this.reads++
    return this.inner.has(key)
  }
  set(key: Key, value: Value): void {
    this.writes++
    this.inner.set(key, value)
  }
  delete(key: Key): void {
    this.writes++
    this.inner.delete(key)
  }
  iterate(opts?: RangeOptions): AsyncIterable<[Key, Value]> {
    return this.inner.iterate(opts)
  }
}

async function dump(store: KVStore): Promise<string[]> {
  const out: string[] = []
  for await (const [k, v] of store.iterate()) out.push(`${hex(k)}=${hex(v)}`)
  return out
}

async function entries(set: WeightedSet): Promise<Array<{ id: Uint8Array; weight: bigint }>> {
  const out = []
  for await (const m of set.entries()) out.push(m)
  return out
}

/** Pearson's statistic of observed counts against expected probabilities. */
function chiSquare(observed: number[], probs: number[]): number {
  const n = observed.reduce((a, b) => a + b, 0)
  let x = 0
  for (let i = 0; i < observed.length; i++) {
    const e = n * probs[i]!
    assert.ok(e >= 5, `expected count ${e} too small for the chi-square approximation`)
    x += (observed[i]! - e) ** 2 / e
  }
  return x
}

// Upper 0.1% points of the chi-square distribution (α = 0.001), by degrees of freedom; checked
// against the regularized incomplete gamma function. The draws are seeded, so each statistic is
// a fixed number: α bounds the chance that a correct implementation would have been rejected for
// the seeds chosen, and a biased sampler (see the modulo-bias control) lands far above.
const CHI2_999: Record<number, number> = { 2: 13.816, 9: 27.877, 15: 37.697, 28: 56.892, 31: 61.098 }

const ratio = (a: bigint, b: bigint): number => Number((a * 1_000_000_000_000n) / b) / 1e12

function expectCorrupt(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof CorruptStateError && /corrupt state/.test(e.message) && pattern.test(e.message))
}

// ---- tests ---------------------------------------------------------------------------------

describe('task/selection: WeightedSet', () => {
  it('is empty on an empty store and refuses to pick', () => {
    const set = new WeightedSet(new MemoryStore())
    assert.equal(set.size(), 0)
    assert.equal(set.total(), 0n)
    assert.equal(set.weight(addr(1)), 0n)
    assert.equal(set.remove(addr(1)), false)
    assert.throws(() => set.pick(0n), /cannot pick from an empty set/)
    assert.throws(() => set.pickExcluding(0n, []), /cannot pick from an empty set/)
    assert.equal(set.draw(seedOf('empty', 0)), undefined)
  })

  it('matches a brute-force reference over random insert/update/remove sequences', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const rng = prng(seed)
      const store = new MemoryStore()
      const set = new WeightedSet(store)
      const ref = new Map<string, bigint>()
      // Ids of varying length (1..32 bytes), so variable-length index keys are exercised too.
      const pool = Array.from({ length: 60 }, (_, i) => sha(`id-${seed}-${i}`).subarray(0, 1 + (i % 32)))
      for (let step = 0; step < 1500; step++) {
        const id = pool[rng.int(pool.length)]!
        const op = rng.int(10)
        if (op < 2) {
          const was = ref.has(hex(id))
          assert.equal(set.remove(id), was)
          ref.delete(hex(id))
        } else {
          // Mix of 0 (removal), small, and > 2^64 weights.
          const kind = rng.int(5)
          const w = kind === 0 ? 0n : kind < 3 ? BigInt(1 + rng.int(1000)) : rng.big(80) + 1n
          set.set(id, w)
          if (w === 0n) ref.delete(hex(id))
          else ref.set(hex(id), w)
        }
        assert.equal(set.size(), ref.size)
        assert.equal(
          set.total(),
          [...ref.values()].reduce((a, b) => a + b, 0n),
        )
        if (step % 100 === 99 || step === 1499) {
          await set.checkInvariants()
          for (const p of pool) assert.equal(set.weight(p), ref.get(hex(p)) ?? 0n)
          // The cumulative line runs over slots in order; every member owns [start, start+w).
          const es = await entries(set)
          assert.deepEqual(new Map(es.map((e) => [hex(e.id), e.weight])), ref)
          let start = 0n
          for (const e of es) {
            assert.deepEqual(set.pick(start), e.id)
            assert.deepEqual(set.pick(start + e.weight - 1n), e.id)
            if (e.weight > 2n) assert.deepEqual(set.pick(start + e.weight / 2n), e.id)
            start += e.weight
          }
        }
      }
      // Empty it completely: no key may remain.
      for (const p of pool) set.remove(p)
      assert.deepEqual(await dump(store), [])
    }
  })

  it('picks at the boundaries r = 0 and r = total - 1 and rejects r outside [0, total)', async () => {
    const set = new WeightedSet(new MemoryStore())
    for (let i = 0; i < 7; i++) set.set(addr(i), BigInt(i + 1) * 10n)
    const es = await entries(set)
    const total = set.total()
    assert.equal(total, 280n)
    assert.deepEqual(set.pick(0n), es[0]!.id)
    assert.deepEqual(set.pick(total - 1n), es[es.length - 1]!.id)
    assert.throws(() => set.pick(total), RangeError)
    assert.throws(() => set.pick(-1n), RangeError)
    // A single member owns the whole line.
    const one = new WeightedSet(new MemoryStore())
    one.set(addr(9), 1n)
    assert.deepEqual(one.pick(0n), addr(9))
    assert.throws(() => one.pick(1n), RangeError)
  })

  it('validates its inputs', () => {
    const store = new CountingStore(new MemoryStore())
    const set = new WeightedSet(store)
    assert.throws(() => set.set(new Uint8Array(), 1n), RangeError)
    assert.throws(() => set.set(new Uint8Array(256), 1n), RangeError)
    assert.throws(() => set.set(addr(1), -1n), RangeError)
    assert.throws(() => set.set(addr(1), 1 as unknown as bigint), RangeError)
    set.set(addr(1), 5n)
    store.reset()
    set.set(addr(1), 5n) // unchanged weight: nothing to write
    assert.equal(store.writes, 0)
    set.set(addr(1), 0n) // weight 0 removes
    assert.equal(set.size(), 0)
    assert.equal(set.has(addr(1)), false)
  })

  it('encodes integers minimally and decodes them back, rejecting leading zero bytes', () => {
    const rng = prng(5)
    assert.deepEqual(encodeUint(0n), new Uint8Array())
    assert.equal(decodeUint(new Uint8Array(), 'x'), 0n)
    for (let bits = 1; bits <= 330; bits++) {
      const x = (1n << BigInt(bits - 1)) | rng.big(bits)
      const b = encodeUint(x)
      assert.equal(b.length, Math.ceil(bits / 8))
      assert.notEqual(b[0], 0)
      assert.equal(decodeUint(b, 'x'), x)
      assert.equal(BigInt('0x' + hex(b)), x)
    }
    assert.throws(() => encodeUint(-1n), RangeError)
    expectCorrupt(() => decodeUint(Uint8Array.of(0, 1), 'weight'), /weight has a leading zero byte/)
  })

  it('keeps no state in memory: a new instance over the same store, or over prefix/cache layers, sees the same set', async () => {
    const base = new MemoryStore()
    const cache = new CacheStore(base)
    const layered = new PrefixStore(cache, Uint8Array.of(0x07, 0x01))
    const a = new WeightedSet(layered)
    const plain = new MemoryStore()
    const b = new WeightedSet(plain)
    const rng = prng(99)
    for (let i = 0; i < 300; i++) {
      const id = addr(rng.int(120))
      const w = rng.int(4) === 0 ? 0n : BigInt(1 + rng.int(1_000_000))
      a.set(id, w)
      b.set(id, w)
    }
    cache.writeTo()
    const reopened = new WeightedSet(new PrefixStore(base, Uint8Array.of(0x07, 0x01)))
    await reopened.checkInvariants()
    // Same operation history, same bytes: the layout is deterministic whatever the store stack.
    assert.deepEqual(await dump(new PrefixStore(base, Uint8Array.of(0x07, 0x01))), await dump(plain))
    for (let i = 0; i < 200; i++) {
      const r = uniformBelow(seedOf('restart', i), b.total())
      assert.deepEqual(reopened.pick(r), b.pick(r))
    }
  })

  it('throws CorruptStateError on corrupt state', () => {
    const fresh = () => {
      const store = new MemoryStore()
      const set = new WeightedSet(store)
      for (let i = 0; i < 5; i++) set.set(addr(i), BigInt(100 + i))
      return { store, set }
    }
    const slotKey = (s: number) => Uint8Array.of(0x02, 0, 0, 0, s)
    const treeKey = (s: number) => Uint8Array.of(0x03, 0, 0, 0, s)
    {
      const { store, set } = fresh()
      store.set(Uint8Array.of(0x00), Uint8Array.of(0, 0, 0, 5, 0, 1)) // total with a leading zero byte
      expectCorrupt(() => set.total(), /leading zero/)
    }
    {
      const { store, set } = fresh()
      store.set(Uint8Array.of(0x00), Uint8Array.of(0, 0, 0, 5, 3)) // total below member count
      expectCorrupt(() => set.size(), /below the member count/)
    }
    {
      const { store, set } = fresh()
      store.delete(treeKey(4))
      expectCorrupt(() => set.pick(0n), /tree node 4 is missing/)
    }
    {
      const { store, set } = fresh()
      store.set(treeKey(4), Uint8Array.of(1)) // tree sums to less than total
      expectCorrupt(() => set.pick(set.total() - 1n), /tree sums/)
    }
    {
      const { store, set } = fresh()
      const v = store.get(slotKey(2))!
      store.set(slotKey(2), v.subarray(0, 21)) // id without a weight
      expectCorrupt(() => set.weight(addr(1)), /slot 2 record is malformed/)
    }
    {
      const { store, set } = fresh()
      store.set(Uint8Array.of(0x01, ...addr(0)), Uint8Array.of(0, 0, 0, 2)) // index points at another member
      expectCorrupt(() => set.weight(addr(0)), /points to slot 2 holding/)
    }
    {
      const { store, set } = fresh()
      store.set(Uint8Array.of(0x01, ...addr(0)), Uint8Array.of(0, 0, 0, 9))
      expectCorrupt(() => set.set(addr(0), 1n), /points to slot 9 of 5/)
    }
  })
})

describe('task/selection: uniformBelow', () => {
  it('is deterministic, in range, and rejects a non-positive total', () => {
    assert.equal(uniformBelow(seedOf('u', 0), 1n), 0n)
    assert.throws(() => uniformBelow(seedOf('u', 0), 0n), RangeError)
    assert.throws(() => uniformBelow(seedOf('u', 0), -5n), RangeError)
    for (const total of [2n, 3n, 255n, 256n, 257n, 2n ** 64n + 13n, 2n ** 256n, 2n ** 256n + 1n, 3n ** 200n]) {
      const seen = new Set<bigint>()
      for (let i = 0; i < 64; i++) {
        const r = uniformBelow(seedOf(`u${total}`, i), total)
        assert.ok(r >= 0n && r < total)
        assert.equal(uniformBelow(seedOf(`u${total}`, i), total), r)
        seen.add(r)
      }
      if (total > 1000n) assert.equal(seen.size, 64) // no collisions among 64 draws from a huge range
    }
  })

  it('follows its specification exactly (consensus-critical): sha256(seed || u32be(counter)) stream, masked, rejected', () => {
    // An independent reading of the spec in the doc comment.
    const reference = (seed: Uint8Array, total: bigint): { r: bigint; rejected: number } => {
      const bits = (total - 1n).toString(2).length
      const bytes = Math.ceil(bits / 8)
      let stream = Buffer.alloc(0)
      let counter = 0
      for (let rejected = 0; ; rejected++) {
        while (stream.length < bytes) {
          const c = Buffer.alloc(4)
          c.writeUInt32BE(counter++)
          stream = Buffer.concat([stream, createHash('sha256').update(seed).update(c).digest()])
        }
        const x = BigInt('0x' + stream.subarray(0, bytes).toString('hex')) % (1n << BigInt(bits))
        stream = stream.subarray(bytes)
        if (x < total) return { r: x, rejected }
      }
    }
    let rejections = 0
    for (const total of [2n, 10n, 192n, 2n ** 64n + 13n, 2n ** 256n, 10n ** 30n, 2n ** 300n + 7n]) {
      for (let i = 0; i < 200; i++) {
        const s = seedOf('spec', i)
        const ref = reference(s, total)
        rejections += ref.rejected
        assert.equal(uniformBelow(s, total), ref.r)
      }
    }
    assert.ok(rejections > 100, 'the rejection path was exercised')
    // Pinned answers: changing them changes which node every validator picks.
    assert.equal(uniformBelow(sha('vector'), 10n ** 30n), 666596599559828758528514076531n)
    assert.equal(uniformBelow(sha('vector'), 192n), 56n)
    assert.equal(
      uniformBelow(sha('vector'), 2n ** 256n),
      BigInt(
        '0x' +
          createHash('sha256')
            .update(sha('vector'))
            .update(Uint8Array.of(0, 0, 0, 0))
            .digest('hex'),
      ),
    )
  })

  it('is uniform (chi-square) where plain modulo reduction is visibly biased', () => {
    // total = 192 from one byte: modulo would give [0,64) twice the mass of [64,192); rejection gives 1/3 per third.
    const N = 6000
    const fair = [0, 0, 0],
      biased = [0, 0, 0]
    for (let i = 0; i < N; i++) {
      const s = seedOf('third', i)
      fair[Number(uniformBelow(s, 192n) / 64n)]!++
      biased[
        Math.floor(
          (createHash('sha256')
            .update(s)
            .update(Uint8Array.of(0, 0, 0, 0))
            .digest()[0]! %
            192) /
            64,
        )
      ]!++
    }
    const xFair = chiSquare(fair, [1 / 3, 1 / 3, 1 / 3])
    const xBiased = chiSquare(biased, [1 / 3, 1 / 3, 1 / 3])
    assert.ok(xFair < CHI2_999[2]!, `uniformBelow chi2 = ${xFair.toFixed(2)} >= ${CHI2_999[2]}`)
    assert.ok(xBiased > 10 * CHI2_999[2]!, `the modulo control should fail: chi2 = ${xBiased.toFixed(2)}`)

    // total = 10 (4-bit candidates, 6 of 16 rejected): 10 bins, df 9.
    const ten = new Array(10).fill(0)
    for (let i = 0; i < 20000; i++) ten[Number(uniformBelow(seedOf('ten', i), 10n))]++
    const xTen = chiSquare(ten, new Array(10).fill(0.1))
    assert.ok(xTen < CHI2_999[9]!, `chi2 = ${xTen.toFixed(2)} >= ${CHI2_999[9]}`)

    // A multi-word total just above a power of two (almost half the candidates rejected), 16 equal bins.
    const big = 2n ** 64n + 13n
    const bins = new Array(16).fill(0)
    for (let i = 0; i < 16000; i++) bins[Number((uniformBelow(seedOf('big', i), big) * 16n) / big)]++
    const xBig = chiSquare(bins, new Array(16).fill(1 / 16))
    assert.ok(xBig < CHI2_999[15]!, `chi2 = ${xBig.toFixed(2)} >= ${CHI2_999[15]}`)
    console.log(
      `      uniformBelow: thirds of 192 chi2 = ${xFair.toFixed(2)} (modulo control ${xBiased.toFixed(2)}), df 2, critical ${CHI2_999[2]}; ` +
        `below 10 chi2 = ${xTen.toFixed(2)}, df 9, critical ${CHI2_999[9]}; 16 bins of 2^64+13 chi2 = ${xBig.toFixed(2)}, df 15, critical ${CHI2_999[15]} (α 0.001)`,
    )
  })
})

describe('task/selection: distribution', () => {
  // 32 members, weights (i+1)·10^20 plus noise: bigints past 2^64, ratio 1:32 between the extremes.
  const M = 32
  const build = () => {
    const store = new MemoryStore()
    const set = new WeightedSet(store)
    const rng = prng(7)
    const weights = new Map<string, bigint>()
    for (let i = 0; i < M; i++) {
      const w = BigInt(i + 1) * 10n ** 20n + rng.big(60)
      set.set(addr(i), w)
      weights.set(hex(addr(i)), w)
    }
    return { store, set, weights }
  }

  it('pick(uniformBelow(seed, total)) matches the weights: chi-square, 32 bins, 40 000 draws', () => {
    const { set, weights } = build()
    const N = 40000
    const total = set.total()
    const counts = new Map<string, number>()
    for (let i = 0; i < N; i++) {
      const id = hex(set.pick(uniformBelow(seedOf('pick', i), total)))
      counts.set(id, (counts.get(id) ?? 0) + 1)
    }
    const keys = [...weights.keys()]
    const x = chiSquare(
      keys.map((k) => counts.get(k) ?? 0),
      keys.map((k) => ratio(weights.get(k)!, total)),
    )
    assert.ok(x < CHI2_999[31]!, `chi2 = ${x.toFixed(2)} >= ${CHI2_999[31]} (df 31, α 0.001)`)
    // Power control: the same draws against a distribution with two weights swapped must fail.
    const swapped = keys.map((k) => ratio(weights.get(k)!, total))
    ;[swapped[0], swapped[31]] = [swapped[31]!, swapped[0]!]
    assert.ok(
      chiSquare(
        keys.map((k) => counts.get(k) ?? 0),
        swapped,
      ) >
        10 * CHI2_999[31]!,
    )
    console.log(`      pick: chi2 = ${x.toFixed(2)}, df 31, critical ${CHI2_999[31]} (α 0.001)`)
  })

  it('pickExcluding never returns an excluded id and matches the renormalised weights: chi-square, 29 bins', async () => {
    const { store, set, weights } = build()
    const excluded = [addr(31), addr(0), addr(12)] // heaviest, lightest, one in between
    const exHex = new Set(excluded.map(hex))
    const before = await dump(store)
    const counting = new CountingStore(store)
    const view = new WeightedSet(counting)
    const totalEx = view.totalExcluding(excluded)
    assert.equal(totalEx, set.total() - excluded.reduce((a, id) => a + weights.get(hex(id))!, 0n))
    const N = 40000
    const counts = new Map<string, number>()
    for (let i = 0; i < N; i++) {
      const id = hex(view.pickExcluding(uniformBelow(seedOf('ex', i), totalEx), excluded))
      assert.ok(!exHex.has(id), 'picked an excluded id')
      counts.set(id, (counts.get(id) ?? 0) + 1)
    }
    assert.equal(counting.writes, 0)
    assert.deepEqual(await dump(store), before, 'the store changed')
    const keys = [...weights.keys()].filter((k) => !exHex.has(k))
    const x = chiSquare(
      keys.map((k) => counts.get(k) ?? 0),
      keys.map((k) => ratio(weights.get(k)!, totalEx)),
    )
    assert.ok(x < CHI2_999[28]!, `chi2 = ${x.toFixed(2)} >= ${CHI2_999[28]} (df 28, α 0.001)`)
    console.log(`      pickExcluding: chi2 = ${x.toFixed(2)}, df 28, critical ${CHI2_999[28]} (α 0.001)`)
  })

  it('pickExcluding equals the brute-force renormalised line for every r and every exclusion of up to 3 members', async () => {
    const store = new MemoryStore()
    const set = new WeightedSet(store)
    const ws = [3n, 1n, 4n, 1n, 5n, 9n, 2n, 6n]
    ws.forEach((w, i) => set.set(addr(i), w))
    set.remove(addr(2)) // so the slot order is not the insertion order
    set.set(addr(2), 4n)
    const es = await entries(set)
    const before = await dump(store)
    const n = es.length
    const subsets: number[][] = [[]]
    for (let a = 0; a < n; a++) {
      subsets.push([a])
      for (let b = a + 1; b < n; b++) {
        subsets.push([b, a]) // caller order must not matter
        for (let c = b + 1; c < n; c++) subsets.push([c, a, b, a]) // nor duplicates
      }
    }
    for (const sub of subsets) {
      const excluded = sub.map((i) => es[i]!.id)
      const line: Uint8Array[] = []
      es.forEach((e, i) => {
        if (!sub.includes(i)) for (let k = 0n; k < e.weight; k++) line.push(e.id)
      })
      assert.equal(set.totalExcluding(excluded), BigInt(line.length))
      line.forEach((id, r) => assert.deepEqual(set.pickExcluding(BigInt(r), excluded), id))
      assert.throws(() => set.pickExcluding(BigInt(line.length), excluded), RangeError)
      // draw() is pickExcluding at uniformBelow over the remaining total.
      const seed = seedOf('draw', sub.length)
      assert.deepEqual(set.draw(seed, excluded), line[Number(uniformBelow(seed, BigInt(line.length)))])
    }
    // Non-members in the exclusion list are ignored; excluding everyone leaves nothing.
    assert.deepEqual(set.pickExcluding(0n, [addr(77)]), set.pick(0n))
    const all = es.map((e) => e.id)
    assert.throws(() => set.pickExcluding(0n, all), /every member is excluded/)
    assert.equal(set.draw(seedOf('none', 0), all), undefined)
    assert.deepEqual(await dump(store), before, 'the store changed')
  })
})

describe('task/selection: cost', () => {
  // Reads per pick = meta + at most floor(log2 n) + 1 tree nodes + the slot record.
  for (const n of [10, 1000, 100_000]) {
    it(`reads per pick <= floor(log2 n) + 3 <= 2·log2(n) with n = ${n}; updates O(log n)`, function () {
      this.timeout(30_000)
      const store = new CountingStore(new MemoryStore())
      const set = new WeightedSet(store)
      const rng = prng(n)
      for (let i = 0; i < n; i++) set.set(addr(i), BigInt(1 + rng.int(1_000_000)))
      const bound = Math.floor(log2(n)) + 3
      assert.ok(bound <= 2 * log2(n))
      const total = set.total()
      let maxReads = 0
      for (let i = 0; i < 2000; i++) {
        const r = i === 0 ? 0n : i === 1 ? total - 1n : uniformBelow(seedOf('cost', i), total)
        store.reset()
        set.pick(r)
        maxReads = Math.max(maxReads, store.reads)
        assert.equal(store.writes, 0)
      }
      assert.ok(maxReads <= bound, `${maxReads} reads > ${bound}`)

      // Three excluded ids: each costs its index, its slot and a prefix sum (<= log2 n reads).
      const excluded = [addr(0), addr(n >> 1), addr(n - 1)]
      const totalEx = set.totalExcluding(excluded)
      let maxEx = 0
      for (let i = 0; i < 200; i++) {
        store.reset()
        set.pickExcluding(uniformBelow(seedOf('costx', i), totalEx), excluded)
        maxEx = Math.max(maxEx, store.reads)
      }
      assert.ok(maxEx <= bound + 3 * (2 + Math.floor(log2(n)) + 1), `${maxEx} reads for pickExcluding`)

      // Insert, update, remove (including the move of the last member): O(log n) each.
      const opBound = 2 * Math.floor(log2(n)) + 12
      const ops: Array<() => void> = [
        () => set.set(addr(n + 1), 5n),
        () => set.set(addr(3), 77n),
        () => set.remove(addr(1)),
        () => set.remove(addr(n + 1)),
        () => set.set(addr(1), 0n),
      ]
      for (const op of ops) {
        store.reset()
        op()
        assert.ok(store.reads + store.writes <= opBound, `${store.reads} reads + ${store.writes} writes > ${opBound}`)
      }
      console.log(`      n = ${n}: max ${maxReads} reads per pick (bound ${bound}), ${maxEx} per pickExcluding(k=3)`)
    })
  }
})
