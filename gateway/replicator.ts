// Replication: each validator's gateway pulls the outputs it does not hold from the other validators'
// gateways, checks them against the chain exactly as an upload, stores them and attests them itself, so that a
// task settles (≥ 2/3 of the bonded power) whichever gateway its node uploaded to, and the creator can download
// from any of them (docs/decisions/0023).
import type { Libp2p } from 'libp2p'
import type { Task } from '../modules/task/index.ts'
import { type GatewayIdentity, createClientHost, hangUpGateway, replicateResult } from './client.ts'
import type { Gateway } from './gateway.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** Pulls at once (a pull is one download and one pHash check), and blocks before a task not found anywhere is asked for again. */
export const REPLICATION_CONCURRENCY = 4
export const REPLICATION_RETRY_BLOCKS = 1n

export interface ReplicatorOptions {
  gateway: Gateway
  /** The other validators' gateways (multiaddrs with /p2p/). */
  peers: string[]
  /** The validator's operator account: the serving gateways answer only bonded validators. */
  identity: GatewayIdentity
  /** The tasks waiting for their output now (Validated, GroupValidated), from committed state. */
  waiting: () => Promise<Task[]>
  log: (m: string) => void
  concurrency?: number
}

/**
 * Following the chain: after each commit, every task waiting for its output that this gateway does not hold is
 * pulled from the peers in turn, at most `concurrency` at a time; a task no peer could give is tried again
 * `REPLICATION_RETRY_BLOCKS` later (its node may not have uploaded yet), until it leaves the upload stage.
 */
export class Replicator {
  private readonly inFlight = new Set<string>()
  private readonly retryAt = new Map<string, bigint>()
  private host?: Promise<Libp2p>
  private stopped = false

  constructor(private readonly o: ReplicatorOptions) {}

  async onCommitted(height: bigint): Promise<void> {
    if (!this.o.peers.length || this.stopped) return
    const waiting = await this.o.waiting()
    const listed = new Set(waiting.map((t) => hex(t.taskIdCommitment)))
    for (const id of this.retryAt.keys()) if (!listed.has(id)) this.retryAt.delete(id)
    for (const t of waiting) {
      const id = hex(t.taskIdCommitment)
      if (this.inFlight.size >= (this.o.concurrency ?? REPLICATION_CONCURRENCY)) break
      if (this.inFlight.has(id) || this.o.gateway.results.get(id) || (this.retryAt.get(id) ?? 0n) > height) continue
      this.inFlight.add(id)
      void this.pull(t, height)
        .catch((err) => this.o.log(`gateway: replicating task ${id}: ${(err as Error).message}`))
        .finally(() => this.inFlight.delete(id))
    }
  }

  private async pull(t: Task, height: bigint): Promise<void> {
    const id = hex(t.taskIdCommitment)
    const host = await (this.host ??= createClientHost())
    const reasons: string[] = []
    for (const peer of this.o.peers) {
      if (this.stopped) return
      try {
        const r = await replicateResult(host, peer, this.o.identity, t.taskIdCommitment)
        const accepted = await this.o.gateway.acceptOutput(t, r.files, r.salt, `gateway ${peer}`)
        if ('stored' in accepted) return
        reasons.push(`${peer}: ${accepted.error}`)
      } catch (err) {
        reasons.push(`${peer}: ${(err as Error).message}`)
      } finally {
        await hangUpGateway(host, peer)
      }
    }
    this.retryAt.set(id, height + REPLICATION_RETRY_BLOCKS)
    if (reasons.some((r) => !/holds no output/.test(r))) this.o.log(`gateway: task ${id} not replicated yet: ${reasons.join('; ')}`)
  }

  async stop(): Promise<void> {
    this.stopped = true
    const h = this.host
    this.host = undefined
    await h?.then((x) => x.stop()).catch(() => {})
  }
}
