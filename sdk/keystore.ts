import fs from 'node:fs'
import path from 'node:path'

/** One member of a task's validation group (or the only task): its on-chain commitment and nonce. */
export interface StoredMember {
  commitment: string
  nonce: string
}

/**
 * What an application must keep to finish a task after a crash: the secret task id and ECVRF key
 * (without them it can never validate, and the task times out), the arguments and fee (to create
 * the validation tasks), and the commitments created so far.
 */
export interface StoredTask {
  /** The secret task id, hex; also the record's name. */
  taskId: string
  vrfSecretKey: string
  creator: string
  chainId: string
  type: 'image' | 'text'
  args: string
  fee: string
  requirements: { modelIds: string[]; minVramGb: number; requiredGpu: string; requiredGpuVramGb: number; taskVersion: string }
  /** members[0] is the first task; two more when the VRF selects it for cross-validation. */
  members: StoredMember[]
  sampled?: boolean
  /** Text tasks: the first task's GPU, which the validation tasks require (exact hashes need the same GPU model). */
  validationGpu?: { name: string; vramGb: number }
  createdAt: number
  /** Set once the output was downloaded and checked (the record may then be deleted). */
  done?: boolean
}

/**
 * A small file store of StoredTask records (`<dir>/<task id>.json`, mode 0600). Each write goes to
 * a temporary file that is fsynced and renamed, so a crash never leaves a torn record.
 */
export class TaskKeyStore {
  constructor(readonly dir: string) {}

  private file(taskId: string): string {
    if (!/^[0-9a-f]{64}$/.test(taskId)) throw new Error(`invalid task id ${JSON.stringify(taskId)}: 64 hex digits`)
    return path.join(this.dir, `${taskId}.json`)
  }

  save(t: StoredTask): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    const f = this.file(t.taskId)
    const fd = fs.openSync(`${f}.tmp`, 'w', 0o600)
    try {
      fs.writeSync(fd, JSON.stringify(t, null, 2) + '\n')
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(`${f}.tmp`, f)
  }

  load(taskId: string): StoredTask | undefined {
    const f = this.file(taskId)
    if (!fs.existsSync(f)) return undefined
    return JSON.parse(fs.readFileSync(f, 'utf8')) as StoredTask
  }

  /** Finds the record holding a member commitment (a task is often known by its first commitment). */
  findByCommitment(commitment: string): StoredTask | undefined {
    return this.list().find((t) => t.members.some((m) => m.commitment === commitment))
  }

  /** Every task in the store (unfinished ones have no `done`). */
  list(): StoredTask[] {
    if (!fs.existsSync(this.dir)) return []
    return fs
      .readdirSync(this.dir)
      .filter((f) => /^[0-9a-f]{64}\.json$/.test(f))
      .map((f) => this.load(f.slice(0, 64))!)
      .filter(Boolean)
  }
}
