import { createHash, randomBytes } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import type { OfflineDirectSigner } from '@cosmjs/proto-signing'
import { GasPrice, QueryClient, SigningStargateClient, calculateFee, createProtobufRpcClient, type DeliverTxResponse } from '@cosmjs/stargate'
import { Comet38Client } from '@cosmjs/tendermint-rpc'
import type { Libp2p } from 'libp2p'
import { createClientHost, downloadResult, hangUpGateway } from '../gateway/client.ts'
import { ecvrfProofToHash, ecvrfProve, ecvrfPublicKey } from '../modules/vss/ecvrf.ts'
import { isSelectedForValidation } from '../modules/vss/sampling.ts'
import { MsgCancelTask, MsgCreateTask, MsgValidateTask } from '../proto/gen/beryl/task/v1/tx.ts'
import { AbortReason, type Task, TaskStatus, TaskType } from '../proto/gen/beryl/task/v1/types.ts'
import { isTerminal } from '../modules/task/index.ts'
import { BUNDLED_MODEL_IDS } from './models.ts'
import { checkOutputs } from './outputs.ts'
import { BerylTaskError, OutputUnavailableError, TaskCancelledError, TaskEndedError, TaskTimeoutError, TaskTxError } from './errors.ts'
import { type StoredTask, TaskKeyStore } from './keystore.ts'
import { type BerylQueries, berylQueries, orUndefined } from './queries.ts'
import { berylRegistry } from './registry.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const unhex = (s: string) => Buffer.from(s, 'hex')
const sha256 = (...p: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const x of p) h.update(x)
  return h.digest()
}

export interface Requirements {
  /** Model ids (sha256 hex); default: the bundled model of the task's kind. */
  modelIds?: string[]
  minVramGb?: number
  /** An exact GPU (e.g. "NVIDIA GeForce RTX 4090") instead of minVramGb. */
  requiredGpu?: string
  requiredGpuVramGb?: number
  /** The least runner version, "major.minor.patch". */
  taskVersion?: string
}

export type Stage = 'created' | 'queued' | 'started' | 'scored' | 'sampled' | 'validated' | 'attested' | 'downloaded'

export interface Progress {
  stage: Stage
  /** The secret task id (hex). */
  taskId: string
  /** Commitments of the task and, once the chain created them (a sampled task, after validation), its two validation tasks. */
  commitments: string[]
  height: number
  message: string
}

export interface RunTaskOptions {
  type: 'image' | 'text'
  /** Task arguments (see the image and text schemas); an object or its JSON. */
  args: object | string
  /** Fee escrowed per task, in uberyl (default 1 BERYL). A sampled task's two validation tasks escrow it too (at validation), and get it back. */
  fee?: bigint | string
  requirements?: Requirements
  onProgress?: (p: Progress) => void
  signal?: AbortSignal
  /** Give up waiting after this long (the task goes on; resumeTask picks it up). Default 15 minutes. */
  timeoutMs?: number
}

export interface TaskResult {
  taskId: string
  /** The member whose output was delivered, then the others (if sampled). */
  commitments: string[]
  sampled: boolean
  /** Output files: PNGs for an image task, one JSON chat completion for a text task. */
  outputs: Uint8Array[]
  /** The chain's record of the delivered task. */
  task: Task
  /** All members' records (one, or three when cross-validated). */
  group: Task[]
  /** Task fees kept by the chain (paid to nodes), in uberyl; refunds deducted. */
  feePaid: bigint
  /** Transaction fees of the flow (create, validate), in uberyl. */
  txFees: bigint
  /** Heights at which the first task was created and the output delivered. */
  heights: { created: number; delivered: number }
  /** The gateway that delivered the output. */
  gateway: string
}

export interface BerylClientOptions {
  /** Gateways (multiaddrs with /p2p/) to download outputs from; `beryld gateway address` prints one. */
  gateways?: string[]
  /** Where task secrets are kept so a crashed app can still validate (default ~/.beryl-sdk/tasks). */
  keyStoreDir?: string
  /** Gas price, e.g. "0.025uberyl". */
  gasPrice?: string
  /** Poll interval for chain state (default 300 ms). */
  pollMs?: number
}

const isEnded = (t: Task) => isTerminal(t.status)
const statusName = (s: TaskStatus) => (TaskStatus[s] ?? String(s)).replace('TASK_STATUS_', '').toLowerCase()

/**
 * What the creator gets back when a member ends this way (settlement rules, modules/task/settlement.ts): a matching
 * seat (EndGroupRefund) is paid to its node, unless the chain splits one fee per group (vss split_group_fee).
 */
function refundOf(t: Task, splitGroupFee = false): bigint {
  if (t.status === TaskStatus.TASK_STATUS_END_SUCCESS || t.status === TaskStatus.TASK_STATUS_END_GROUP_SUCCESS) return 0n
  if (t.status === TaskStatus.TASK_STATUS_END_GROUP_REFUND && !splitGroupFee) return 0n
  if (t.status === TaskStatus.TASK_STATUS_END_ABORTED && t.abortReason === AbortReason.ABORT_REASON_CREATOR_VALIDATION_TIMEOUT) return 0n
  return isEnded(t) ? BigInt(t.fee) : 0n
}

/**
 * An application's handle on Beryl: a cosmjs signing client with every Beryl message registered,
 * typed queries of every module, and `runTask`, the whole verified-task flow.
 */
export class BerylClient {
  readonly keys: TaskKeyStore
  private constructor(
    readonly signing: SigningStargateClient,
    readonly address: string,
    readonly chainId: string,
    rpc: ReturnType<typeof createProtobufRpcClient>,
    private readonly signer: OfflineDirectSigner,
    private readonly o: BerylClientOptions,
  ) {
    this.keys = new TaskKeyStore(o.keyStoreDir ?? path.join(os.homedir(), '.beryl-sdk', 'tasks'))
    this.query = berylQueries(rpc)
  }

  /** Connects to a node's CometBFT RPC with a cosmjs signer (its first account is the creator). */
  static async connect(rpcUrl: string, signer: OfflineDirectSigner, o: BerylClientOptions = {}): Promise<BerylClient> {
    const [account] = await signer.getAccounts()
    if (!account) throw new Error('the signer has no account')
    const comet = await Comet38Client.connect(rpcUrl)
    const signing = SigningStargateClient.createWithSigner(comet, signer, {
      registry: berylRegistry(),
      gasPrice: GasPrice.fromString(o.gasPrice ?? '0.025uberyl'),
      broadcastPollIntervalMs: o.pollMs ?? 300,
    })
    const chainId = await signing.getChainId()
    return new BerylClient(signing, account.address, chainId, createProtobufRpcClient(QueryClient.withExtensions(comet)), signer, o)
  }

  /** One libp2p host for every download of this client (a gateway limits new connections per host). */
  private host?: Promise<Libp2p>

  disconnect(): void {
    this.signing.disconnect()
    const h = this.host
    this.host = undefined
    void h?.then((x) => x.stop()).catch(() => {})
  }

  /** Typed queries of every Beryl module (bank and auth: `signing.getBalance`, `signing.getAccount`). */
  readonly query: BerylQueries

  // ---- the task flow -----------------------------------------------------------------------

  /**
   * Runs a task end to end: create it with fresh secrets (kept in the key store first), wait for its
   * sampling seed and compute the ECVRF; wait for the node's score commitment; validate (if the
   * proof selects the task, the chain creates and judges its validation group); download the output
   * from a gateway and check it against the score revealed on chain.
   */
  async runTask(o: RunTaskOptions): Promise<TaskResult> {
    const r = o.requirements ?? {}
    const type = o.type
    if (type !== 'image' && type !== 'text') throw new Error(`type must be "image" or "text", got ${JSON.stringify(type)}`)
    const args = typeof o.args === 'string' ? o.args : JSON.stringify(o.args)
    const taskId = randomBytes(32)
    const nonce = randomBytes(32)
    const stored: StoredTask = {
      taskId: hex(taskId),
      vrfSecretKey: hex(randomBytes(32)),
      creator: this.address,
      chainId: this.chainId,
      type,
      args,
      fee: BigInt(o.fee ?? 1_000_000n).toString(),
      requirements: {
        modelIds: r.modelIds ?? [BUNDLED_MODEL_IDS[type]],
        minVramGb: r.minVramGb ?? 0,
        requiredGpu: r.requiredGpu ?? '',
        requiredGpuVramGb: r.requiredGpuVramGb ?? 0,
        taskVersion: r.taskVersion ?? '0.1.0',
      },
      members: [{ commitment: hex(sha256(taskId, nonce)), nonce: hex(nonce) }],
      createdAt: Date.now(),
    }
    this.keys.save(stored)
    return this.drive(stored, o)
  }

  /**
   * Finishes a task this app started, after a crash or a timeout: by its secret task id or any of
   * its commitments, from the key store. Whatever was already done on chain is not done again.
   */
  async resumeTask(id: string, o: Omit<RunTaskOptions, 'type' | 'args' | 'fee' | 'requirements'> = {}): Promise<TaskResult> {
    const stored = this.keys.load(id) ?? this.keys.findByCommitment(id)
    if (!stored) throw new Error(`no task ${id} in the key store ${this.keys.dir}`)
    if (stored.creator !== this.address || stored.chainId !== this.chainId) throw new Error(`task ${id} belongs to ${stored.creator} on ${stored.chainId}`)
    return this.drive(stored, o)
  }

  /** Cancels a queued task (a full refund); refused once a node has started it. */
  async cancelTask(commitment: string): Promise<DeliverTxResponse> {
    const res = await this.signing.signAndBroadcast(
      this.address,
      [{ typeUrl: '/beryl.task.v1.MsgCancelTask', value: MsgCancelTask.fromPartial({ creator: this.address, taskIdCommitment: unhex(commitment) }) }],
      'auto',
    )
    if (res.code !== 0) throw new TaskTxError(`cancel refused: ${res.rawLog}`, '', res.code, res.rawLog ?? '')
    return res
  }

  private async drive(s: StoredTask, o: Omit<RunTaskOptions, 'type' | 'args'>): Promise<TaskResult> {
    /** The task's commitment and, once the chain created them, its validation tasks' (for progress). */
    let known = s.members.map((m) => m.commitment)
    const deadline = Date.now() + (o.timeoutMs ?? 15 * 60_000)
    const poll = this.o.pollMs ?? 300
    let txFees = 0n
    const progress = async (stage: Stage, message: string) => {
      o.onProgress?.({
        stage,
        taskId: s.taskId,
        commitments: known,
        height: await this.signing.getHeight().catch(() => 0),
        message,
      })
    }
    /** The last failure to reach the node while polling, and how many polls in a row failed so. */
    let unreachable: { error: string; times: number } | undefined
    const check = () => {
      if (o.signal?.aborted) throw new TaskCancelledError('cancelled by the caller; the task goes on on chain', s.taskId)
      if (Date.now() > deadline)
        throw new TaskTimeoutError(
          `gave up waiting after ${Math.round((o.timeoutMs ?? 900_000) / 1000)} s${unreachable ? ` (the node was unreachable on the last ${unreachable.times} poll(s): ${unreachable.error})` : ''}; resumeTask('${s.taskId}') continues it`,
          s.taskId,
        )
    }
    const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
    const onChain = (c: string): Promise<Task | undefined> => orUndefined(this.query.task.task(c))
    /**
     * Polls until `f` has an answer. A poll that cannot reach the node (refused, reset, timed out: a node under load)
     * is tried again with backoff (doubling from the poll interval to 5 s) until the caller's deadline; the task goes
     * on on chain meanwhile, so a passing network failure costs time, never the task.
     */
    const waitFor = async (f: () => Promise<Task[] | undefined>): Promise<Task[]> => {
      for (;;) {
        check()
        let v: Task[] | undefined
        try {
          v = await f()
          unreachable = undefined
        } catch (err) {
          if (!isUnreachable(err)) throw err
          unreachable = { error: (err as Error).message, times: (unreachable?.times ?? 0) + 1 }
        }
        if (v) return v
        await sleep(unreachable ? Math.min(5_000, poll * 2 ** Math.min(unreachable.times, 5)) : poll)
      }
    }
    const send = async (msgs: Array<{ typeUrl: string; value: unknown }>, what: string): Promise<DeliverTxResponse> => {
      // Gas is simulated against the last block; a group's validation may cost more by the time it
      // runs (its members' QoS and settlement), so the margin is wide and an out-of-gas is retried once.
      let res = await this.signing.signAndBroadcast(this.address, msgs, 1.6)
      if (res.code === 11) {
        txFees += gasFee(res.gasWanted, this.o.gasPrice)
        res = await this.signing.signAndBroadcast(this.address, msgs, 3)
      }
      if (res.code !== 0) throw new TaskTxError(`${what} failed: ${res.rawLog}`, s.taskId, res.code, res.rawLog ?? '')
      txFees += gasFee(res.gasWanted, this.o.gasPrice)
      return res
    }
    /**
     * `send`, for a step whose effect the chain shows (`landed`). When the node cannot be reached mid-way, the
     * transaction may or may not be in a block: the chain is asked for a while (10 s) before the step is sent
     * again, so a step that landed is not sent twice. Undefined when it landed without an answer to read.
     */
    const sendStep = async (msgs: Array<{ typeUrl: string; value: unknown }>, what: string, landed: () => Promise<boolean>) => {
      for (;;) {
        try {
          return await send(msgs, what)
        } catch (err) {
          if (!isUnreachable(err)) throw err
          unreachable = { error: (err as Error).message, times: (unreachable?.times ?? 0) + 1 }
        }
        for (const until = Date.now() + 10_000; Date.now() < until; await sleep(1_000)) {
          check()
          if (await landed().catch((err) => (isUnreachable(err) ? false : Promise.reject(err)))) return undefined
        }
      }
    }
    const first = s.members[0]!
    const create = async (): Promise<number | undefined> => {
      if (await onChain(first.commitment)) return undefined
      const req = s.requirements
      const res = await sendStep(
        [
          {
            typeUrl: '/beryl.task.v1.MsgCreateTask',
            value: MsgCreateTask.fromPartial({
              creator: this.address,
              taskIdCommitment: unhex(first.commitment),
              nonce: unhex(first.nonce),
              taskType: s.type === 'image' ? TaskType.TASK_TYPE_IMAGE : TaskType.TASK_TYPE_TEXT,
              args: s.args,
              modelIds: req.modelIds,
              minVramGb: req.minVramGb,
              requiredGpu: req.requiredGpu,
              requiredGpuVramGb: req.requiredGpuVramGb,
              taskVersion: req.taskVersion,
              fee: s.fee,
              vrfPublicKey: ecvrfPublicKey(unhex(s.vrfSecretKey)),
            }),
          },
        ],
        'creating the task',
        async () => (await onChain(first.commitment)) !== undefined,
      )
      return res?.height
    }
    /** The task and, once the chain created them, its group's current validation tasks. */
    const group = async (): Promise<Task[] | undefined> => {
      const t = await onChain(first.commitment)
      if (!t) return undefined
      if (t.validationTasks.length) known = [first.commitment, ...t.validationTasks.map(hex)]
      const seats = await Promise.all(t.validationTasks.map((c) => onChain(hex(c))))
      return seats.every((x) => x) ? [t, ...(seats as Task[])] : undefined
    }

    // 1. The task, and its sampling seed (fixed at the end of its creation block, or of the next one once vote
    // extensions make the chain seed: docs/decisions/0022).
    // The creation block (on resume, when it was created before, the height now: a lower bound of the wait).
    const createdHeight = (await create()) ?? (await this.signing.getHeight())
    await progress('created', `task ${first.commitment.slice(0, 12)}… created`)
    const [seeded] = await waitFor(async () => {
      const t = await onChain(first.commitment)
      return t && t.samplingSeed.length ? [t] : undefined
    })
    const proof = ecvrfProve(unhex(s.vrfSecretKey), seeded!.samplingSeed)
    const sampled = isSelectedForValidation(ecvrfProofToHash(proof)!, BigInt(seeded!.samplingRate))
    if (s.sampled === undefined) {
      s.sampled = sampled
      this.keys.save(s)
    }

    // 2. The node runs the task and commits to its answer. Nothing the node can see before its
    // commitment is in a block depends on whether the task is sampled: the VRF proof is sent after.
    let lastStage = ''
    const [committed] = await waitFor(async () => {
      const t = await onChain(first.commitment)
      if (!t) return undefined
      const stage = t.status === TaskStatus.TASK_STATUS_QUEUED ? 'queued' : 'started'
      if (stage !== lastStage && (t.status === TaskStatus.TASK_STATUS_QUEUED || t.status === TaskStatus.TASK_STATUS_STARTED)) {
        lastStage = stage
        await progress(stage, stage === 'queued' ? 'waiting for a node' : `running on ${t.selectedNode}`)
      }
      return t.status === TaskStatus.TASK_STATUS_QUEUED || t.status === TaskStatus.TASK_STATUS_STARTED ? undefined : [t]
    })
    const delivered = (ts: Task[]) =>
      ts.find(
        (t) =>
          t.status === TaskStatus.TASK_STATUS_END_SUCCESS ||
          t.status === TaskStatus.TASK_STATUS_END_GROUP_SUCCESS ||
          t.status === TaskStatus.TASK_STATUS_VALIDATED ||
          t.status === TaskStatus.TASK_STATUS_GROUP_VALIDATED,
      )
    const failIfEnded = (ts: Task[]) => {
      if (delivered(ts) || !ts.every(isEnded)) return
      const main = ts[0]!
      const refunded = ts.reduce((a, t) => a + refundOf(t), 0n) // the chain's default settlement (no split_group_fee)
      const why = main.abortReason ? AbortReason[main.abortReason]!.replace('ABORT_REASON_', '').toLowerCase() : statusName(main.status)
      throw new TaskEndedError(
        `the task ended ${statusName(main.status)}${main.abortReason ? ` (${why})` : ''}; ${refunded} uberyl refunded`,
        s.taskId,
        ts,
        statusName(main.status),
        why,
        refunded,
      )
    }
    failIfEnded([committed!])

    // 3. Validation: reveal the task id and the VRF proof. Selected, the chain creates the two
    // validation tasks itself (escrowing their fees from this account) and judges the group.
    if (committed!.status === TaskStatus.TASK_STATUS_SCORE_READY) {
      await progress('scored', `${committed!.selectedNode} committed to its answer`)
      await sendStep(
        [
          {
            typeUrl: '/beryl.task.v1.MsgValidateTask',
            value: MsgValidateTask.fromPartial({
              creator: this.address,
              taskIdCommitments: [unhex(first.commitment)],
              taskId: unhex(s.taskId),
              vrfProof: proof,
            }),
          },
        ],
        'validating',
        async () => (await onChain(first.commitment))?.status !== TaskStatus.TASK_STATUS_SCORE_READY,
      )
    }
    if (sampled) await progress('sampled', 'selected for cross-validation: the chain runs the task on two more nodes and compares the three answers')
    let said = ''
    const final = await waitFor(async () => {
      const ts = await group()
      if (!ts) return undefined
      failIfEnded(ts)
      const d = delivered(ts)
      if (!d) return undefined
      const attested = d.status === TaskStatus.TASK_STATUS_END_SUCCESS || d.status === TaskStatus.TASK_STATUS_END_GROUP_SUCCESS
      if (!attested && said !== 'validated') {
        said = 'validated'
        await progress('validated', `validated; waiting for ${d.selectedNode} to upload the output`)
      }
      if (attested && said !== 'attested') {
        said = 'attested'
        await progress('attested', 'validators holding 2/3 of the bonded power checked the output against the score and attested it')
      }
      // Gateways deliver only a settled output (validators with 2/3 of the bonded power attested it).
      return attested ? ts : undefined
    })

    // 5. The output, checked against the score on chain.
    const d = delivered(final)!
    const outputs = await this.download(s, d, o)
    s.done = true
    this.keys.save(s)
    const deliveredHeight = await this.signing.getHeight()
    await progress('downloaded', `${outputs.files.length} file(s) from ${outputs.gateway}`)
    const split = sampled ? (await this.query.vss.params()).splitGroupFee : false
    const feePaid = final.reduce((a, t) => a + BigInt(t.fee) - refundOf(t, split), 0n)
    return {
      taskId: s.taskId,
      commitments: [hex(d.taskIdCommitment), ...final.filter((t) => t !== d).map((t) => hex(t.taskIdCommitment))],
      sampled,
      outputs: outputs.files,
      task: d,
      group: final,
      feePaid,
      txFees,
      heights: { created: createdHeight, delivered: deliveredHeight },
      gateway: outputs.gateway,
    }
  }

  /**
   * The output from any validator's gateway, checked against the score on chain. Every gateway is asked in
   * turn, round after round with exponential backoff (0.5 s doubling to 8 s, ± 25 % jitter, about a minute
   * in all): a refused or reset connection, an output not settled or not replicated yet, are all worth
   * another try. A gateway whose files do not match the score is not asked again. The connection to a
   * gateway is closed after each attempt, so a creator holds none of a gateway's connection slots while it
   * waits. Only when every gateway has failed every round: `OutputUnavailableError`, with each gateway's
   * last reason.
   */
  private async download(s: StoredTask, t: Task, o: { signal?: AbortSignal }): Promise<{ files: Uint8Array[]; gateway: string }> {
    const gateways = this.o.gateways ?? []
    if (!gateways.length)
      throw new OutputUnavailableError('no gateway configured (BerylClientOptions.gateways); `beryld gateway address` on a validator prints one', s.taskId, [t])
    const last = new Map<string, string>()
    const dishonest = new Set<string>()
    for (let round = 0; round < DOWNLOAD_ROUNDS && !o.signal?.aborted; round++) {
      for (const g of gateways) {
        if (dishonest.has(g)) continue
        this.host ??= createClientHost()
        const host = await this.host
        try {
          const { files } = await downloadResult(g, { chainId: this.chainId, signer: this.signer, address: this.address }, t.taskIdCommitment, host)
          // The score on chain: a single task's is revealed by its attestation, so read it afresh.
          const now = (await orUndefined(this.query.task.task(hex(t.taskIdCommitment)))) ?? t
          if (now.score.length === 0) {
            last.set(g, `the score of task ${hex(t.taskIdCommitment)} is not revealed on chain yet`)
            continue
          }
          const mismatch = await checkOutputs(now, files)
          if (!mismatch) return { files, gateway: g }
          last.set(g, mismatch)
          dishonest.add(g)
        } catch (err) {
          last.set(g, (err as Error).message)
        } finally {
          await hangUpGateway(host, g)
        }
      }
      if (dishonest.size === gateways.length) break
      const backoff = Math.min(DOWNLOAD_BACKOFF_MAX_MS, DOWNLOAD_BACKOFF_MS * 2 ** round)
      await new Promise((r) => setTimeout(r, backoff * (0.75 + Math.random() / 2)))
    }
    const reasons = gateways.map((g) => ({ gateway: g, error: last.get(g) ?? 'not tried (cancelled)' }))
    throw new OutputUnavailableError(
      `no gateway delivered an output matching the score (${gateways.length} gateway(s), up to ${DOWNLOAD_ROUNDS} rounds each): ${reasons.map((r) => `${r.gateway}: ${r.error}`).join('; ')}`,
      s.taskId,
      [t],
      reasons,
    )
  }
}

/**
 * Whether an error is a failure to reach the node (no answer at all), as opposed to an answer: undici's
 * "fetch failed" and the socket errors under it, HTTP 5xx statuses, and cosmjs's TimeoutError (a broadcast
 * transaction not seen in a block in time: it may still land). The chain's own refusals never are.
 */
export function isUnreachable(err: unknown): boolean {
  if (err instanceof BerylTaskError) return false
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } } | undefined
  if (e?.name === 'TimeoutError') return true
  const text = `${e?.message ?? ''} ${e?.cause?.code ?? ''} ${e?.cause?.message ?? ''}`
  return /fetch failed|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EADDRNOTAVAIL|UND_ERR_|socket hang up|other side closed|Bad status on response: 5\d\d/i.test(
    text,
  )
}

/** Rounds over all gateways before a download gives up, and the backoff between rounds (doubling, capped). */
const DOWNLOAD_ROUNDS = 10
const DOWNLOAD_BACKOFF_MS = 500
const DOWNLOAD_BACKOFF_MAX_MS = 8_000

/** What a transaction with this gas limit paid in fees, in uberyl (cosmjs rounds the same way when signing). */
function gasFee(gasWanted: bigint | number, gasPrice = '0.025uberyl'): bigint {
  return BigInt(calculateFee(Number(gasWanted), GasPrice.fromString(gasPrice)).amount[0]!.amount)
}
