// Cost of one dispatch pick (modules/task/selection.ts) with 100, 10 000 and 100 000 members, on
// the real state stack: LevelDB CommittedStore <- block CacheStore <- gas-metered module store
// (Context.kv, as a message handler sees it) <- the set's own prefix. Anchored against one raw
// CommittedStore read measured on the same database in the same run.
// Usage: node --import tsx bench/dispatch.ts [picks-per-size]
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Context } from '../chain/context.ts'
import { GasMeter } from '../chain/gas.ts'
import { CacheStore } from '../chain/store/cache.ts'
import { CommittedStore } from '../chain/store/leveldb.ts'
import { PrefixStore } from '../chain/store/prefix.ts'
import type { Key, KVStore, RangeOptions, Value } from '../chain/store/types.ts'
import { WeightedSet, uniformBelow } from '../modules/task/selection.ts'

const PICKS = Number(process.argv[2] ?? 20000)
const SIZES = [100, 10_000, 100_000]
const COMMIT_EVERY = 5000
const SET_PREFIX = Uint8Array.of(0x10) // the set's collection inside the task module's store

const log = (m: string) => process.stderr.write(m + '\n')
const sha = (s: string): Uint8Array => new Uint8Array(createHash('sha256').update(s).digest())
const addr = (i: number): Uint8Array => sha(`node-${i}`).subarray(0, 20)
const now = (): bigint => process.hrtime.bigint()
const usSince = (t: bigint, n: number): number => Number(now() - t) / 1000 / n
/**
 * µs per item of fn over `items`, as the median of 5 timed rounds: the machine is shared and
 * LevelDB compacts in background threads after a reopen, so one long run mixes in their noise.
 */
function medianUs<T>(items: readonly T[], fn: (x: T) => void): number {
  const ROUNDS = 5
  const per = Math.ceil(items.length / ROUNDS)
  const out: number[] = []
  for (let k = 0; k < ROUNDS; k++) {
    const part = items.slice(k * per, (k + 1) * per)
    const t = now()
    for (const x of part) fn(x)
    out.push(usSince(t, part.length))
  }
  return out.sort((a, b) => a - b)[ROUNDS >> 1]!
}

/** Counts the reads that reach the block overlay (below the gas meter, so gas and reads agree). */
class CountingStore implements KVStore {
  reads = 0
  constructor(private readonly inner: KVStore) {}
  get(key: Key): Value | undefined {
    this.reads++
    return this.inner.get(key)
  }
  has(key: Key): boolean {
    this.reads++
    return this.inner.has(key)
  }
  set(key: Key, value: Value): void {
    this.inner.set(key, value)
  }
  delete(key: Key): void {
    this.inner.delete(key)
  }
  iterate(opts?: RangeOptions): AsyncIterable<[Key, Value]> {
    return this.inner.iterate(opts)
  }
}

const block = {
  chainId: 'bench',
  height: 1n,
  timeSeconds: 0n,
  timeNanos: 0,
  proposer: new Uint8Array(20),
  hash: new Uint8Array(32),
  lastAppHash: new Uint8Array(32),
}
/** The set as the task module's handler would hold it, over `base`, with a fresh gas meter. */
function moduleView(base: KVStore) {
  const counting = new CountingStore(base)
  const meter = new GasMeter(undefined)
  const ctx = new Context(counting, meter, block, 'deliver')
  return { set: new WeightedSet(new PrefixStore(ctx.kv('task'), SET_PREFIX)), counting, meter }
}

interface Row {
  n: number
  setupS: number
  rawUs: number
  pickUs: number
  reads: number
  maxReads: number
  gas: number
  exUs: number
  exReads: number
  exGas: number
}

async function measure(n: number): Promise<Row> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-bench-dispatch-'))
  try {
    // Setup: insert through block overlays, committed in batches like consecutive blocks would be.
    // The LtHash is carried over unchanged (it is not what is being measured).
    const t0 = now()
    let committed = await CommittedStore.open(dir)
    let height = 0n
    for (let from = 0; from < n; from += COMMIT_EVERY) {
      const overlay = new CacheStore(committed)
      const set = new WeightedSet(new PrefixStore(new PrefixStore(overlay, new Uint8Array(Buffer.from('task/'))), SET_PREFIX))
      for (let i = from; i < Math.min(n, from + COMMIT_EVERY); i++) {
        // Weights of the size S·Q/(S+Q) takes with 18-decimal stakes and scores.
        set.set(addr(i), (BigInt((i % 997) + 1) * 10n ** 18n) / 7n + BigInt(i))
      }
      await committed.commit(overlay.changes(), ++height, sha(`apphash-${height}`), committed.ltHash)
    }
    // Restart: everything below is read back from disk by a fresh process-level handle.
    await committed.close()
    committed = await CommittedStore.open(dir)
    const setupS = usSince(t0, 1) / 1e6

    const { set, counting, meter } = moduleView(new CacheStore(committed))
    if (set.size() !== n) throw new Error(`expected ${n} members, found ${set.size()}`)
    const total = set.total()
    const rs = Array.from({ length: PICKS }, (_, i) => uniformBelow(sha(`bench-${n}-${i}`), total))

    // Anchor: one raw CommittedStore.get of a random stored key (tree nodes of this set).
    const tree = (i: number) => new Uint8Array([...Buffer.from('task/'), ...SET_PREFIX, 0x03, (i >>> 24) & 255, (i >>> 16) & 255, (i >>> 8) & 255, i & 255])
    const rawKeys = Array.from({ length: PICKS }, (_, i) => tree(1 + Number(rs[i]! % BigInt(n))))
    for (const k of rawKeys.slice(0, 2000)) committed.get(k)
    const rawUs = medianUs(rawKeys, (k) => {
      if (committed.get(k) === undefined) throw new Error('raw anchor key missing')
    })

    // pick(r): warm up, then time; reads and gas from the same calls.
    for (const r of rs.slice(0, 2000)) set.pick(r)
    counting.reads = 0
    let maxReads = 0
    const gas0 = meter.consumed
    const pickUs = medianUs(rs, (r) => {
      const before = counting.reads
      set.pick(r)
      maxReads = Math.max(maxReads, counting.reads - before)
    })
    const reads = counting.reads / PICKS
    const gas = Number(meter.consumed - gas0) / PICKS

    // pickExcluding with 3 excluded members (nodes that already got the same (creator, args hash)).
    const excluded = [addr(0), addr(n >> 1), addr(n - 1)]
    const totalEx = set.totalExcluding(excluded)
    const rx = rs.map((r) => r % totalEx) // timing only; the draws' exact distribution does not matter here
    counting.reads = 0
    const gasX = meter.consumed
    const exUs = medianUs(rx, (r) => set.pickExcluding(r, excluded))
    const exReads = counting.reads / PICKS
    const exGas = Number(meter.consumed - gasX) / PICKS

    await committed.close()
    return { n, setupS, rawUs, pickUs, reads, maxReads, gas, exUs, exReads, exGas }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const rows: Row[] = []
for (const n of SIZES) {
  log(`n = ${n}: inserting and committing…`)
  rows.push(await measure(n))
}

// uniformBelow is part of every draw; its cost does not depend on n.
const seeds = Array.from({ length: PICKS }, (_, i) => sha(`u-${i}`))
const uniformUs = medianUs(seeds, (s) => uniformBelow(s, 10n ** 24n + 7n))

const f = (x: number, d = 1) => x.toFixed(d)
console.log(`\nWeightedSet on LevelDB (CommittedStore + CacheStore + gas-metered module store), ${PICKS} picks per size; times are medians of 5 rounds`)
console.log('| members | setup s | raw get µs (anchor) | µs/pick | reads/pick (max) | gas/pick | µs/pickExcluding k=3 | reads | gas |')
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
for (const r of rows) {
  console.log(
    `| ${r.n} | ${f(r.setupS)} | ${f(r.rawUs, 2)} | ${f(r.pickUs, 2)} | ${f(r.reads)} (${r.maxReads}) | ${f(r.gas, 0)} | ${f(r.exUs, 2)} | ${f(r.exReads)} | ${f(r.exGas, 0)} |`,
  )
}
const a = rows[0]!,
  b = rows[rows.length - 1]!
console.log(
  `\nratio ${b.n}/${a.n} members: time ${f(b.pickUs / a.pickUs, 2)}×, reads ${f(b.reads / a.reads, 2)}×, gas ${f(b.gas / a.gas, 2)}×` +
    ` (log2 ratio ${f(Math.log2(b.n) / Math.log2(a.n), 2)}×; a scan would be ${b.n / a.n}×)`,
)
console.log(`uniformBelow (sha256 rejection sampling, n-independent): ${f(uniformUs, 2)} µs`)
