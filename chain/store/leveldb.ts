import { ClassicLevel } from 'classic-level'
import { LtHash } from './lthash.ts'
import type { Key, RangeOptions, ReadStore, Value } from './types.ts'

// Layout of the one LevelDB: 0x00 = metadata (not part of the app hash), 0x01 = state.
const META = 0x00
const STATE = 0x01
const META_HEIGHT = Uint8Array.of(META, 1)
const META_APPHASH = Uint8Array.of(META, 2)
const META_LTHASH = Uint8Array.of(META, 3)
const META_TIME = Uint8Array.of(META, 4)

const stateKey = (k: Key): Uint8Array => {
  const out = new Uint8Array(k.length + 1)
  out[0] = STATE
  out.set(k, 1)
  return out
}

/** What the last Commit wrote; `timeSeconds` is that block's time (queries report time-dependent values as of it). */
export interface CommitInfo {
  height: bigint
  appHash: Uint8Array
  timeSeconds: bigint
}

/**
 * Committed state in LevelDB. Reads see only what the last Commit wrote; a block's writes arrive
 * in one atomic, synced batch together with the height and app hash, so a crash at any instant
 * leaves either the previous block or this one, never a mixture.
 */
export class CommittedStore implements ReadStore {
  private constructor(
    private readonly db: ClassicLevel<Uint8Array, Uint8Array>,
    private info_: CommitInfo,
    private ltHash_: LtHash,
  ) {}

  static async open(path: string): Promise<CommittedStore> {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' })
    try {
      await db.open()
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause
      if (cause?.code === 'LEVEL_LOCKED' || /lock/i.test(String((err as Error).message) + String(cause))) {
        throw new Error(`the state database at ${path} is already in use by another process (is another beryld running with this home?)`)
      }
      throw err
    }
    const h = db.getSync(META_HEIGHT)
    const height = h ? BigInt(Buffer.from(h).toString('ascii')) : 0n
    const appHash = db.getSync(META_APPHASH) ?? new Uint8Array()
    const lt = db.getSync(META_LTHASH)
    const t = db.getSync(META_TIME)
    const timeSeconds = t ? BigInt(Buffer.from(t).toString('ascii')) : 0n
    return new CommittedStore(db, { height, appHash, timeSeconds }, lt ? new LtHash(lt) : new LtHash())
  }

  get info(): CommitInfo {
    return this.info_
  }
  get ltHash(): LtHash {
    return this.ltHash_
  }

  get(key: Key): Value | undefined {
    return this.db.getSync(stateKey(key))
  }
  has(key: Key): boolean {
    return this.get(key) !== undefined
  }

  async *iterate(opts: RangeOptions = {}): AsyncIterable<[Key, Value]> {
    const it = this.db.iterator({
      gte: stateKey(opts.start ?? new Uint8Array()),
      lt: opts.end ? stateKey(opts.end) : Uint8Array.of(STATE + 1),
      reverse: opts.reverse ?? false,
      limit: opts.limit ?? -1,
    })
    try {
      for (;;) {
        const batch = await it.nextv(256)
        if (batch.length === 0) break
        for (const [k, v] of batch) yield [k.subarray(1), v]
      }
    } finally {
      await it.close()
    }
  }

  /** Writes one block atomically and durably: its changes, the height, the app hash and the LtHash. */
  async commit(changes: Array<[Key, Value | undefined]>, height: bigint, appHash: Uint8Array, ltHash: LtHash, timeSeconds = 0n): Promise<void> {
    const ops: Array<{ type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array }> = []
    for (const [k, v] of changes) ops.push(v === undefined ? { type: 'del', key: stateKey(k) } : { type: 'put', key: stateKey(k), value: v })
    ops.push({ type: 'put', key: META_HEIGHT, value: new Uint8Array(Buffer.from(height.toString(), 'ascii')) })
    ops.push({ type: 'put', key: META_APPHASH, value: appHash })
    ops.push({ type: 'put', key: META_LTHASH, value: ltHash.toBytes() })
    ops.push({ type: 'put', key: META_TIME, value: new Uint8Array(Buffer.from(timeSeconds.toString(), 'ascii')) })
    await this.db.batch(ops, { sync: true })
    this.info_ = { height, appHash, timeSeconds }
    this.ltHash_ = ltHash.clone()
  }

  async close(): Promise<void> {
    await this.db.close()
  }
}

/** The app hash after applying `changes` (in any order) to a state whose LtHash is `base`. */
export function nextLtHash(base: LtHash, committed: ReadStore, changes: Array<[Key, Value | undefined]>): LtHash {
  const lt = base.clone()
  for (const [k, v] of changes) {
    const old = committed.get(k)
    if (old !== undefined) lt.remove(k, old)
    if (v !== undefined) lt.add(k, v)
  }
  return lt
}
