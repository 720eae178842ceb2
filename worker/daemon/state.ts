import fs from 'node:fs'
import path from 'node:path'

/**
 * Where a task stands on this worker. The record is written before each step that talks to the
 * chain, so a worker killed at any point resumes from it: a computed score is submitted as it
 * was (never computed twice into a different one), a submitted one is only re-sent if the chain
 * still shows the task running, and outputs stay on disk until they are uploaded.
 */
export type TaskPhase =
  | 'running' // computing; nothing sent yet
  | 'computed' // outputs and score on disk, score not yet accepted by a mempool
  | 'submitted' // MsgSubmitScore (the commitment to the score or error report) accepted by CheckTx
  | 'uploaded' // output accepted by a gateway
  | 'ended' // the chain ended the task

export interface TaskRecord {
  /** Task id commitment, hex. */
  task: string
  taskType: 'image' | 'text'
  phase: TaskPhase
  /** Score hex, once computed. */
  score?: string
  /** Set when the args were invalid and an error was reported instead of a score. */
  argsError?: string
  /**
   * The 32-byte salt (hex) of the score commitment sha256(score ‖ salt), drawn once and written
   * before the commitment is sent: after a crash the worker can still open what it committed to.
   */
  salt?: string
  files?: string[]
  txhash?: string
  deadline: number
  /** Terminal status name, once ended. */
  endStatus?: string
  updatedAt: number
}

/** One folder per task under `<home>/data/tasks/<id>/`: `state.json` and the output files. */
export class TaskStateStore {
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true })
  }

  private folder(task: string): string {
    if (!/^[0-9a-f]{64}$/.test(task)) throw new Error(`invalid task id ${JSON.stringify(task)}`)
    return path.join(this.dir, task)
  }

  get(task: string): TaskRecord | undefined {
    const p = path.join(this.folder(task), 'state.json')
    if (!fs.existsSync(p)) return undefined
    try {
      return JSON.parse(fs.readFileSync(p, 'utf8')) as TaskRecord
    } catch {
      return undefined
    }
  }

  /** Writes the record durably (temporary file, fsync, rename). */
  put(r: Omit<TaskRecord, 'updatedAt'>): TaskRecord {
    const rec = { ...r, updatedAt: Date.now() }
    const dir = this.folder(r.task)
    fs.mkdirSync(dir, { recursive: true })
    writeDurably(path.join(dir, 'state.json'), JSON.stringify(rec, null, 2))
    return rec
  }

  update(task: string, change: Partial<TaskRecord>): TaskRecord {
    const r = this.get(task)
    if (!r) throw new Error(`no record of task ${task}`)
    return this.put({ ...r, ...change })
  }

  /** Saves output files (0.png, 1.png … or 0.json) durably; returns their names. */
  saveOutputs(task: string, files: Uint8Array[], ext: 'png' | 'json'): string[] {
    const dir = this.folder(task)
    fs.mkdirSync(dir, { recursive: true })
    return files.map((f, i) => {
      writeDurably(path.join(dir, `${i}.${ext}`), f)
      return `${i}.${ext}`
    })
  }

  readOutputs(r: TaskRecord): Uint8Array[] | undefined {
    if (!r.files?.length) return undefined
    try {
      return r.files.map((f) => fs.readFileSync(path.join(this.folder(r.task), f)))
    } catch {
      return undefined
    }
  }

  /** Every record, newest first. */
  list(): TaskRecord[] {
    const out: TaskRecord[] = []
    for (const d of fs.readdirSync(this.dir)) {
      if (!/^[0-9a-f]{64}$/.test(d)) continue
      const r = this.get(d)
      if (r) out.push(r)
    }
    return out.sort((a, b) => b.updatedAt - a.updatedAt)
  }

  /** Deletes the output files of ended tasks older than `ageMs`, keeping their records. */
  pruneOutputs(ageMs: number): void {
    const cutoff = Date.now() - ageMs
    for (const r of this.list()) {
      if (r.phase !== 'ended' || r.updatedAt > cutoff || !r.files?.length) continue
      for (const f of r.files) fs.rmSync(path.join(this.folder(r.task), f), { force: true })
      this.put({ ...r, files: [] })
    }
  }
}

function writeDurably(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp`
  const fd = fs.openSync(tmp, 'w')
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
}
