import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/** What the gateway keeps for one task's output. */
export interface StoredResult {
  /** Task id commitment, hex. */
  task: string
  node: string
  creator: string
  /** sha256 of each file, hex, in output order. */
  files: string[]
  bytes: number
  /** sha256 over the concatenated file digests, hex: what the attester puts on chain. */
  resultHash: string
  /** The score the files reproduce and the salt that opens the node's commitment with it (hex), for the attestation. */
  score?: string
  salt?: string
  storedAt: number
  expiresAt: number
}

export interface ResultLimits {
  /** Largest output of one task (all its files). */
  maxTaskBytes: number
  /** Largest total the store holds; uploads beyond it are refused until results expire. */
  maxTotalBytes: number
  /** How long an output is kept for its creator to download. */
  ttlMs: number
}

export const DEFAULT_RESULT_LIMITS: ResultLimits = { maxTaskBytes: 32 * 1024 * 1024, maxTotalBytes: 4 * 1024 * 1024 * 1024, ttlMs: 24 * 3600_000 }

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest()

/** sha256(sha256(f₀) ‖ sha256(f₁) ‖ …): one digest for an ordered set of output files. */
export function resultHash(files: Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const f of files) h.update(sha256(f))
  return h.digest()
}

/**
 * Task outputs, content-addressed under a folder of the node's data directory:
 * `objects/<sha256>` holds file bytes (shared by tasks with identical outputs), `tasks/<id>.json`
 * what belongs to a task. Files are written to a temporary name and renamed, so a crash leaves
 * either the whole entry or none (a missing entry is simply requested again from the worker).
 */
export class ResultStore {
  private readonly objects: string
  private readonly tasks: string
  private total = 0

  constructor(
    dir: string,
    readonly limits: ResultLimits = DEFAULT_RESULT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.objects = path.join(dir, 'objects')
    this.tasks = path.join(dir, 'tasks')
    fs.mkdirSync(this.objects, { recursive: true })
    fs.mkdirSync(this.tasks, { recursive: true })
    for (const f of fs.readdirSync(this.objects)) {
      if (f.endsWith('.tmp')) fs.rmSync(path.join(this.objects, f), { force: true })
      else this.total += fs.statSync(path.join(this.objects, f)).size
    }
  }

  get totalBytes(): number {
    return this.total
  }

  get(task: string): StoredResult | undefined {
    const p = this.entryPath(task)
    if (!fs.existsSync(p)) return undefined
    try {
      const r = JSON.parse(fs.readFileSync(p, 'utf8')) as StoredResult
      return r.expiresAt > this.now() ? r : undefined
    } catch {
      return undefined
    }
  }

  /** Stores a task's output; throws with a reason when a limit refuses it. */
  put(meta: { task: string; node: string; creator: string; score?: string; salt?: string }, files: Uint8Array[]): StoredResult {
    const bytes = files.reduce((s, f) => s + f.length, 0)
    if (bytes > this.limits.maxTaskBytes) throw new Error(`the output is ${bytes} bytes; this gateway accepts at most ${this.limits.maxTaskBytes} per task`)
    if (this.total + bytes > this.limits.maxTotalBytes) {
      this.purgeExpired()
      if (this.total + bytes > this.limits.maxTotalBytes) throw new Error("the gateway's result store is full; try another gateway or later")
    }
    const digests = files.map((f) => sha256(f).toString('hex'))
    files.forEach((f, i) => {
      const p = path.join(this.objects, digests[i]!)
      if (fs.existsSync(p)) return
      fs.writeFileSync(p + '.tmp', f)
      fs.renameSync(p + '.tmp', p)
      this.total += f.length
    })
    const now = this.now()
    const entry: StoredResult = {
      ...meta,
      files: digests,
      bytes,
      resultHash: Buffer.from(resultHash(files)).toString('hex'),
      storedAt: now,
      expiresAt: now + this.limits.ttlMs,
    }
    const p = this.entryPath(meta.task)
    fs.writeFileSync(p + '.tmp', JSON.stringify(entry))
    fs.renameSync(p + '.tmp', p)
    return entry
  }

  /** A task's files, checked against their digests (a damaged object reads as missing). */
  read(task: string): Uint8Array[] | undefined {
    const e = this.get(task)
    if (!e) return undefined
    const out: Uint8Array[] = []
    for (const d of e.files) {
      const p = path.join(this.objects, d)
      if (!fs.existsSync(p)) return undefined
      const b = fs.readFileSync(p)
      if (sha256(b).toString('hex') !== d) return undefined
      out.push(b)
    }
    return out
  }

  /** Removes expired entries and the objects no entry refers to; returns how many entries went. */
  purgeExpired(): number {
    const now = this.now()
    const keep = new Set<string>()
    let removed = 0
    for (const f of fs.readdirSync(this.tasks)) {
      const p = path.join(this.tasks, f)
      let e: StoredResult | undefined
      try {
        e = JSON.parse(fs.readFileSync(p, 'utf8')) as StoredResult
      } catch {
        e = undefined
      }
      if (!e || e.expiresAt <= now) {
        fs.rmSync(p, { force: true })
        removed++
        continue
      }
      for (const d of e.files) keep.add(d)
    }
    for (const f of fs.readdirSync(this.objects)) {
      if (keep.has(f)) continue
      const p = path.join(this.objects, f)
      this.total -= fs.statSync(p).size
      fs.rmSync(p, { force: true })
    }
    return removed
  }

  private entryPath(task: string): string {
    if (!/^[0-9a-f]{64}$/.test(task)) throw new Error('invalid task id')
    return path.join(this.tasks, `${task}.json`)
  }
}
