// The attester: the validator's operator account, with which its gateway puts the hash of a checked, stored
// output on chain (MsgAttestResult). The task settles once validators holding 2/3 of the bonded power attested
// the same hash (docs/decisions/0023).
import type { OfflineDirectSigner } from '@cosmjs/proto-signing'
import type { BerylApp } from '../chain/app.ts'
import type { BerylModules } from '../modules/index.ts'
import { TaskStatus } from '../modules/task/index.ts'
import { MsgAttestResult } from '../proto/gen/beryl/task/v1/tx.ts'
import { berylRegistry } from '../sdk/registry.ts'
import { type BroadcastResult, TxSender } from '../sdk/sender.ts'
import type { StoredResult } from './results.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** Blocks after which an attestation that did not land is sent again. */
const ATTEST_RETRY_BLOCKS = 5n
/**
 * Blocks after which an attestation that landed, on a task still not settled, is sent again: the same
 * attestation counts the bonded power anew, so a task whose attesters came to hold 2/3 through a set change
 * (a silent validator jailed) settles without waiting for a new attester.
 */
const RECOUNT_BLOCKS = 20n
/**
 * Gas of a first attestation; each resend doubles it (up to 8×): settling pays the node, the protocol share and QoS,
 * and a group's settlement costs more, so a limit too low for one task is not retried forever at the same limit.
 */
const ATTEST_GAS = 600_000
const ATTEST_GAS_DOUBLINGS = 3

export interface AttesterOptions {
  app: BerylApp
  keepers: BerylModules['keepers']
  chainId: string
  signer: OfflineDirectSigner
  address: string
  gasPrice: string
  broadcast: (tx: Uint8Array) => Promise<BroadcastResult>
  log: (m: string) => void
}

/**
 * Sends MsgAttestResult for every stored output whose task is still validated, and again if it
 * has not landed after a few blocks (a dropped tx, a restart) and the task has not settled: a repeated
 * attestation of the same hash is accepted and counts the power anew. Needs the operator account of a
 * bonded validator.
 */
export class Attester {
  private readonly pending = new Map<
    string,
    { task: Uint8Array; resultHash: Uint8Array; score: Uint8Array; salt: Uint8Array; sentAt?: bigint; sends: number }
  >()
  private readonly sender: TxSender

  constructor(private readonly o: AttesterOptions) {
    this.sender = new TxSender({
      signer: o.signer,
      address: o.address,
      chainId: o.chainId,
      registry: berylRegistry(),
      gasPrice: o.gasPrice,
      broadcast: o.broadcast,
      account: async () => {
        const a = o.keepers.auth.getAccount(o.app.queryContext(), o.address)
        return a && { accountNumber: a.accountNumber, sequence: a.sequence }
      },
    })
  }

  /** A stored output to attest, with the reveal its upload carried (a validated single task's score and salt). */
  add(task: Uint8Array, s: Pick<StoredResult, 'resultHash' | 'score' | 'salt'>): void {
    if (this.pending.has(hex(task))) return
    const b = (x: string | undefined) => Buffer.from(x ?? '', 'hex')
    this.pending.set(hex(task), { task, resultHash: b(s.resultHash), score: b(s.score), salt: b(s.salt), sends: 0 })
  }

  /** After each commit: drop what landed, (re)send what is due. */
  async onCommitted(height: bigint): Promise<void> {
    const ctx = this.o.app.queryContext()
    if (!this.o.keepers.validator.activeSet(ctx).some((v) => v.account === this.o.address)) {
      if (this.pending.size) this.o.log(`gateway: ${this.o.address} is not a bonded validator; ${this.pending.size} output(s) wait for attestation`)
      return
    }
    for (const [id, p] of this.pending) {
      const t = this.o.keepers.task.getTask(ctx, p.task)
      if (!t || (t.status !== TaskStatus.TASK_STATUS_VALIDATED && t.status !== TaskStatus.TASK_STATUS_GROUP_VALIDATED)) {
        this.pending.delete(id)
        continue
      }
      const landed = t.attestations.some((a) => a.validator === this.o.address)
      if (p.sentAt !== undefined && height - p.sentAt < (landed ? RECOUNT_BLOCKS : ATTEST_RETRY_BLOCKS)) continue
      if (p.sentAt !== undefined) this.sender.resync()
      p.sentAt = height
      const msg = {
        typeUrl: '/beryl.task.v1.MsgAttestResult',
        value: MsgAttestResult.fromPartial({
          attester: this.o.address,
          taskIdCommitment: p.task,
          resultHash: p.resultHash,
          // A group's score was revealed in the group; a single task's rides on this attestation.
          ...(t.status === TaskStatus.TASK_STATUS_VALIDATED ? { score: p.score, salt: p.salt } : {}),
        }),
      }
      const gas = ATTEST_GAS * 2 ** Math.min(p.sends++, ATTEST_GAS_DOUBLINGS)
      const res = await this.sender.send([msg], gas).catch((err: Error) => ({ code: 1, log: err.message, txhash: '' }))
      this.o.log(res.code === 0 ? `gateway: attested task ${id} (tx ${res.txhash})` : `gateway: attesting task ${id} failed: ${res.log}`)
    }
  }
}
