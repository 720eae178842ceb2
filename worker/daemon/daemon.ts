import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { OfflineDirectSigner } from '@cosmjs/proto-signing'
import sharp from 'sharp'
import type { Assignment, TaskEnded, UploadRequest } from '../../proto/gen/beryl/gateway/v1/gateway.ts'
import { MsgJoin, MsgUpdateModels } from '../../proto/gen/beryl/staking/v1/tx.ts'
import { MsgRevealResult, MsgSubmitScore } from '../../proto/gen/beryl/task/v1/tx.ts'
import { TaskStatus, TaskType } from '../../proto/gen/beryl/task/v1/types.ts'
import { berylRegistry } from '../../sdk/registry.ts'
import { type BroadcastResult, TxSender } from '../../sdk/sender.ts'
import { ArgsError, validateImageArgs } from '../../modules/task/schema.ts'
import { isTerminal } from '../../modules/task/index.ts'
import { GatewaySession } from '../gateway/session.ts'
import { ensureBundledModels, listModels, type ModelManifest } from '../models/store.ts'
import { fingerprint } from '../../outputs/check.ts'
import { outputKind } from '../../sdk/outputs.ts'
import { runImageTask, runTextTask } from '../runners/index.ts'
import { ChainClient } from './chain.ts'
import type { WorkerConfig } from './config.ts'
import { chooseGpuProfile, detectGpu, type GpuProfile } from './gpu.ts'
import { startWorkerMetrics, type WorkerMetrics } from './metrics.ts'
import { type TaskRecord, TaskStateStore } from './state.ts'

/** The runner version this worker reports when it joins (tasks may require a least version). */
export const RUNNER_VERSION = '0.1.0'

const TX_GAS = 400_000
/**
 * A reveal may be the group's last: then it pays for judging the group (three settlements, QoS,
 * possibly a slash and the ending of the slashed node's open tasks), several times a score's gas.
 */
const REVEAL_GAS = 3_000_000
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const short = (id: string) => id.slice(0, 12)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface DaemonOptions {
  config: WorkerConfig
  signer: OfflineDirectSigner
  address: string
  log?: (line: string) => void
  /**
   * Test hooks: 'random-output' is a lazy worker that returns random outputs instead of running the
   * model ('random-images': lazy on image tasks only);
   * 'crash-while-running' kills the process in the middle of a run; 'crash-after-compute'
   * kills it once a score is on disk, before it is sent.
   */
  fault?: 'random-output' | 'random-images' | 'crash-while-running' | 'crash-after-compute'
  /** Test hook: nvidia-smi runner. */
  detect?: typeof detectGpu
  /**
   * Replaces the ONNX runners (benchmarks: a precomputed output measures the protocol, not the
   * model). Returns the output files; the score is computed from them as usual.
   */
  runner?: (a: Assignment) => Promise<Uint8Array[]>
}

/** What `beryld worker status` reads of a running daemon (`<home>/data/worker-status.json`). */
export interface DaemonStatus {
  pid: number
  address: string
  startedAt: number
  gpu: GpuProfile
  models: string[]
  gateway?: string
  currentTask?: string
  updatedAt: number
}

/**
 * The GPU operator's daemon: joins the network with the models it holds, keeps a session with a
 * gateway (reconnecting with backoff, failing over to the next one), runs one assignment at a
 * time, submits the score through the gateway, and uploads the output once the creator validated
 * it. Every step is recorded on disk first, so a restarted worker resumes without a lost or
 * duplicate score.
 */
export class WorkerDaemon {
  readonly state: TaskStateStore
  private chain!: ChainClient
  private sender!: TxSender
  private chainId = ''
  private session?: GatewaySession
  private readonly queue: Assignment[] = []
  private readonly queued = new Set<string>()
  private working?: Promise<void>
  private current?: string
  private stopped = false
  private readonly startedAt = Date.now()
  private wake?: () => void
  private loop?: Promise<void>
  private readonly log: (line: string) => void
  private metrics?: WorkerMetrics
  gpu!: GpuProfile
  models: ModelManifest[] = []
  /** Resolves when the daemon stops on its own (e.g. the node was removed); the reason. */
  readonly ended: Promise<string>
  private endWith!: (reason: string) => void

  constructor(private readonly o: DaemonOptions) {
    this.state = new TaskStateStore(path.join(o.config.home, 'data', 'tasks'))
    this.log = o.log ?? ((l) => console.log(`${new Date().toISOString()} ${l}`))
    this.ended = new Promise((r) => {
      this.endWith = r
    })
  }

  get address(): string {
    return this.o.address
  }

  async start(): Promise<void> {
    const c = this.o.config
    this.log(`worker ${this.address} starting (home ${c.home})`)

    // Models: the bundled ones are built on first start (deterministic, no download).
    await ensureBundledModels(c.modelDir)
    this.models = await listModels(c.modelDir, { onInvalid: (e, why) => this.log(`models: skipping ${e}: ${why}`) })
    this.log(`models: ${this.models.length} in ${c.modelDir}: ${this.models.map((m) => `${m.name} (${m.kind}, ${short(m.id)}…)`).join(', ')}`)

    const detected = await (this.o.detect ?? detectGpu)()
    this.gpu = chooseGpuProfile(detected.profile, c.gpu, c.cpuProfile)
    this.log(`gpu: ${detected.note}; reporting ${this.gpu.name} with ${this.gpu.vramGb} GB (${this.gpu.source})`)

    this.chain = await ChainClient.connect(c.nodeRpc)
    this.chainId = await this.chain.chainId()
    if (this.chainId !== c.chainId) throw new Error(`the node at ${c.nodeRpc} serves chain ${this.chainId}, but worker.toml says ${c.chainId}`)
    this.sender = new TxSender({
      signer: this.o.signer,
      address: this.address,
      chainId: this.chainId,
      registry: berylRegistry(),
      gasPrice: c.gasPrice,
      account: () => this.chain.account(this.address),
      broadcast: (tx) => this.broadcast(tx),
    })

    if (c.metricsAddress) {
      this.metrics = await startWorkerMetrics(c.metricsAddress, () => this.chain.nodeRecord(this.address))
      this.log(this.metrics ? `metrics: http://${c.metricsAddress}/metrics` : 'metrics: prom-client is not installed; [metrics] ignored')
    }
    await this.ensureJoined()
    await this.reconcile()
    this.state.pruneOutputs(24 * 3600_000)
    this.writeStatus()
    this.loop = this.sessionLoop()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.wake?.()
    await this.session?.close()
    await this.loop
    await this.working
    await this.metrics?.close()
    this.chain?.disconnect()
    fs.rmSync(this.statusFile, { force: true })
  }

  // ---- joining -------------------------------------------------------------------------------

  private async ensureJoined(): Promise<void> {
    const modelIds = [...new Set(this.models.map((m) => m.id))].sort()
    const node = await this.chain.node(this.address)
    if (node) {
      this.log(
        `node: joined, ${node.status === 1 ? 'available' : `status ${node.status}`}, stake ${node.stake} uberyl, GPU ${node.gpuName} ${node.gpuVramGb} GB`,
      )
      if (node.modelIds.join() !== modelIds.join()) {
        this.log(`node: the models on chain differ from the folder; sending MsgUpdateModels with ${modelIds.length} model(s)`)
        await this.sendAndWait(
          { typeUrl: '/beryl.staking.v1.MsgUpdateModels', value: MsgUpdateModels.fromPartial({ address: this.address, modelIds }) },
          'update models',
        )
      }
      return
    }
    const params = await this.chain.stakingParams()
    const stake = this.o.config.stake ?? params.minStake
    const balance = await this.chain.balance(this.address)
    if (balance < BigInt(stake)) {
      throw new Error(`${this.address} holds ${balance} uberyl but joining stakes ${stake} uberyl (plus fees); fund the account first`)
    }
    this.log(`node: joining with ${stake} uberyl staked, ${modelIds.length} model(s), GPU ${this.gpu.name} ${this.gpu.vramGb} GB`)
    await this.sendAndWait(
      {
        typeUrl: '/beryl.staking.v1.MsgJoin',
        value: MsgJoin.fromPartial({
          address: this.address,
          gpuName: this.gpu.name,
          gpuVramGb: this.gpu.vramGb,
          runnerVersion: RUNNER_VERSION,
          modelIds,
          stake,
        }),
      },
      'join',
    )
    this.log('node: joined')
  }

  private async sendAndWait(msg: { typeUrl: string; value: unknown }, what: string): Promise<void> {
    const r = await this.sender.send([msg], TX_GAS)
    if (r.code !== 0) throw new Error(`${what} refused: ${r.log}`)
    const d = await this.chain.waitForTx(r.txhash)
    if (d.code !== 0) throw new Error(`${what} failed in block ${d.height}: ${d.log}`)
  }

  /** Transactions go through the gateway session when there is one, else straight to the node's RPC. */
  private async broadcast(tx: Uint8Array): Promise<BroadcastResult> {
    const s = this.session
    if (s) {
      try {
        return await s.submitTx(tx)
      } catch (err) {
        this.log(`gateway: handing over a tx failed (${(err as Error).message}); sending it to the node's RPC`)
      }
    }
    return this.chain.broadcast(tx)
  }

  /** On start: local records of tasks the chain has ended meanwhile are closed. */
  private async reconcile(): Promise<void> {
    for (const r of this.state.list()) {
      if (r.phase === 'ended') continue
      const t = await this.chain.task(Buffer.from(r.task, 'hex'))
      if (!t || isTerminal(t.status)) {
        this.state.update(r.task, { phase: 'ended', endStatus: t ? TaskStatus[t.status] : 'UNKNOWN' })
      } else {
        this.log(`task ${short(r.task)}: resuming (${r.phase}, chain says ${TaskStatus[t.status]})`)
      }
    }
  }

  // ---- the gateway session -------------------------------------------------------------------

  private async sessionLoop(): Promise<void> {
    const gateways = this.o.config.gateways
    let i = 0
    let failures = 0
    while (!this.stopped) {
      const gw = gateways[i % gateways.length]!
      try {
        this.session = await GatewaySession.connect({
          gateway: gw,
          chainId: this.chainId,
          signer: this.o.signer,
          address: this.address,
          handlers: {
            onAssignment: (a) => this.enqueue(a),
            onUploadRequest: (u) => void this.upload(u),
            onTaskEnded: (e) => this.taskEnded(e),
            onRevealRequest: (r) => void this.reveal(r.taskIdCommitment),
          },
        })
        failures = 0
        this.log(`gateway: session open with ${gw}`)
        this.writeStatus()
        const reason = await this.session.closed
        this.session = undefined
        this.writeStatus()
        if (this.stopped) break
        this.log(`gateway: session with ${gw} ended (${reason}); reconnecting`)
      } catch (err) {
        const m = (err as Error).message
        this.log(`gateway: cannot open a session with ${gw}: ${m}`)
        if (/is not a joined GPU node/.test(m) && !(await this.chain.node(this.address).catch(() => true))) {
          const rec = await this.chain.nodeRecord(this.address).catch(() => undefined)
          const why = rec?.kickedOutTime ? `kicked out (${rec.kickedOutReason})` : rec?.slashCount ? `slashed (${rec.lastSlashReason})` : 'not joined (quit?)'
          this.log(`node: ${this.address} is no longer a node: ${why}. See \`beryld worker status\`; start the worker again to re-join.`)
          this.stopped = true
          this.endWith(`the node is no longer joined: ${why}`)
          break
        }
        failures++
      }
      i++ // fail over to the next gateway
      // Exponential backoff with full jitter: workers that failed together do not retry together.
      const cap = Math.min(30_000, 500 * 2 ** Math.min(failures, 6))
      const delay = cap / 2 + Math.floor(Math.random() * (cap / 2))
      await new Promise<void>((r) => {
        this.wake = r
        setTimeout(r, delay)
      })
    }
  }

  // ---- running tasks -------------------------------------------------------------------------

  private enqueue(a: Assignment): void {
    const id = hex(a.taskIdCommitment)
    if (this.queued.has(id) || this.current === id) return
    this.queued.add(id)
    this.queue.push(a)
    this.log(`task ${short(id)}: assigned (${TaskType[a.taskType]}, deadline ${new Date(Number(a.deadline) * 1000).toISOString()})`)
    this.working ??= this.drain().finally(() => {
      this.working = undefined
    })
  }

  /** One assignment at a time, in arrival order. */
  private async drain(): Promise<void> {
    while (this.queue.length && !this.stopped) {
      const a = this.queue.shift()!
      const id = hex(a.taskIdCommitment)
      this.current = id
      this.writeStatus()
      try {
        await this.handle(a)
      } catch (err) {
        this.log(`task ${short(id)}: ${(err as Error).message}`)
      } finally {
        this.queued.delete(id)
        this.current = undefined
        this.writeStatus()
      }
    }
  }

  private async handle(a: Assignment): Promise<void> {
    const id = hex(a.taskIdCommitment)
    const image = a.taskType === TaskType.TASK_TYPE_IMAGE
    let rec = this.state.get(id)
    if (rec?.phase === 'submitted') {
      // The gateway pushes a task again only while the chain shows it running: the tx did not land.
      const t = await this.chain.task(a.taskIdCommitment)
      if (t?.status !== TaskStatus.TASK_STATUS_STARTED) return
      this.log(`task ${short(id)}: the chain still shows it running; submitting the recorded ${rec.argsError ? 'error report' : 'score'} again`)
      this.sender.resync()
      rec = this.state.put({ ...rec, phase: 'computed' })
    } else if (rec && rec.phase !== 'running' && rec.phase !== 'computed') {
      return
    }
    if (!rec || rec.phase === 'running') {
      rec = this.state.put({ task: id, taskType: image ? 'image' : 'text', phase: 'running', deadline: Number(a.deadline) })
      const t0 = Date.now()
      if (this.o.fault === 'crash-while-running') setTimeout(() => process.kill(process.pid, 'SIGKILL'), 10)
      try {
        const out = await this.run(a)
        const files = this.state.saveOutputs(id, out.files, image ? 'png' : 'json')
        rec = this.state.put({ ...rec, phase: 'computed', score: hex(out.score), files })
        this.log(`task ${short(id)}: computed ${out.files.length} output(s) in ${Date.now() - t0} ms; score ${hex(out.score)}`)
        this.metrics?.taskRun(a.modelIds[0] ?? '', image ? 'image' : 'text', (Date.now() - t0) / 1000, 'ok')
        if (this.o.fault === 'crash-after-compute') process.kill(process.pid, 'SIGKILL')
      } catch (err) {
        if (!(err instanceof ArgsError) && !(err instanceof SyntaxError)) {
          // Only invalid arguments are reported: a wrong error report is slashed, and a local
          // failure (out of memory, a missing model) is not the creator's fault. The task times out.
          this.log(`task ${short(id)}: failed locally (${(err as Error).message}); not reported, the task will time out`)
          this.metrics?.taskRun(a.modelIds[0] ?? '', image ? 'image' : 'text', (Date.now() - t0) / 1000, 'failed')
          this.state.put({ ...rec, phase: 'ended', endStatus: 'LOCAL_FAILURE' })
          return
        }
        rec = this.state.put({ ...rec, phase: 'computed', argsError: (err as Error).message })
        this.log(`task ${short(id)}: invalid arguments (${(err as Error).message}); reporting PARAMETERS_INVALID`)
        this.metrics?.taskRun(a.modelIds[0] ?? '', image ? 'image' : 'text', (Date.now() - t0) / 1000, 'invalid_args')
      }
    }
    // The salt is drawn once and on disk before the commitment leaves: the answer can always be opened.
    if (!rec.salt) rec = this.state.put({ ...rec, salt: hex(randomBytes(32)) })
    await this.submit(rec, a.taskIdCommitment)
  }

  /** What this worker committed to: the score, or the empty score of an error report, and its salt. */
  private answer(rec: TaskRecord): { score: Uint8Array; salt: Uint8Array } {
    return { score: rec.argsError ? new Uint8Array() : Buffer.from(rec.score!, 'hex'), salt: Buffer.from(rec.salt!, 'hex') }
  }

  private async run(a: Assignment): Promise<{ files: Uint8Array[]; score: Uint8Array }> {
    const args = JSON.parse(a.args) as unknown
    const opts = { executionProvider: this.o.config.executionProvider, model: a.modelIds[0], log: this.log }
    let files: Uint8Array[]
    if (this.o.runner) files = await this.o.runner(a)
    else if (a.taskType === TaskType.TASK_TYPE_IMAGE) {
      files =
        this.o.fault === 'random-output' || this.o.fault === 'random-images'
          ? await randomImages(args)
          : (await runImageTask(args, this.o.config.modelDir, opts)).images
    } else {
      files = [this.o.fault === 'random-output' ? randomBytes(64) : (await runTextTask(args, this.o.config.modelDir, opts)).json]
    }
    return { files, score: await fingerprint(outputKind(a.taskType), files) }
  }

  private async submit(rec: TaskRecord, commitment: Uint8Array): Promise<void> {
    const { score, salt } = this.answer(rec)
    const msg = {
      typeUrl: '/beryl.task.v1.MsgSubmitScore',
      value: MsgSubmitScore.fromPartial({
        node: this.address,
        taskIdCommitment: commitment,
        scoreCommitment: createHash('sha256').update(score).update(salt).digest(),
      }),
    }
    const what = rec.argsError ? 'error report' : 'score'
    const r = await this.sender.send([msg], TX_GAS)
    this.metrics?.submitted(rec.argsError ? 'error_report' : 'score', r.code === 0)
    if (r.code !== 0) {
      const t = await this.chain.task(commitment)
      if (t?.status !== TaskStatus.TASK_STATUS_STARTED) {
        this.state.put({ ...rec, phase: 'ended', endStatus: t ? TaskStatus[t.status] : 'UNKNOWN' })
        this.log(`task ${short(rec.task)}: ${what} refused (${r.log}); the task is ${t ? TaskStatus[t.status] : 'gone'}`)
      } else {
        this.log(`task ${short(rec.task)}: ${what} refused (${r.log}); will retry when the gateway sends the task again`)
      }
      return
    }
    this.state.put({ ...rec, phase: 'submitted', txhash: r.txhash })
    this.log(`task ${short(rec.task)}: ${what} submitted (tx ${r.txhash})`)
    // Make sure it lands; if it was dropped while the task still runs, send it again once.
    const d = await this.chain.waitForTx(r.txhash, 20_000).catch(() => undefined)
    if (d?.code === 0) return
    const t = await this.chain.task(commitment)
    if (t?.status === TaskStatus.TASK_STATUS_STARTED) {
      this.log(`task ${short(rec.task)}: the ${what} did not land (${d ? d.log : 'not included'}); sending it again`)
      this.sender.resync()
      await this.submit({ ...rec, phase: 'computed' }, commitment)
    }
  }

  private async upload(u: UploadRequest): Promise<void> {
    const id = hex(u.taskIdCommitment)
    const rec = this.state.get(id)
    // An error report has no output: the node opens its commitment (the empty score) on chain.
    if (rec?.argsError && rec.salt) return this.reveal(u.taskIdCommitment)
    const files = rec && this.state.readOutputs(rec)
    if (!rec || !files || !rec.salt) return void this.log(`task ${short(id)}: validated, but this worker holds no output for it`)
    for (let attempt = 1; attempt <= 3 && this.session && !this.stopped; attempt++) {
      try {
        const hash = await this.session.uploadResult(u.taskIdCommitment, files, Buffer.from(rec.salt, 'hex'))
        this.state.put({ ...rec, phase: 'uploaded' })
        this.metrics?.uploaded(true)
        this.log(`task ${short(id)}: output uploaded (${files.length} file(s), result hash ${short(hex(hash))}…)`)
        return
      } catch (err) {
        this.log(`task ${short(id)}: upload attempt ${attempt} failed: ${(err as Error).message}`)
        this.metrics?.uploaded(false)
        await sleep(1000 * attempt)
      }
    }
  }

  /** Opens this worker's commitment on chain (MsgRevealResult): its group asked, or its validated task's error report. */
  private async reveal(commitment: Uint8Array): Promise<void> {
    const id = hex(commitment)
    const rec = this.state.get(id)
    if (!rec?.salt || (!rec.score && !rec.argsError)) return void this.log(`task ${short(id)}: asked to reveal, but this worker holds no answer for it`)
    const { score, salt } = this.answer(rec)
    const msg = {
      typeUrl: '/beryl.task.v1.MsgRevealResult',
      value: MsgRevealResult.fromPartial({ node: this.address, taskIdCommitment: commitment, score, salt }),
    }
    for (let attempt = 1; attempt <= 3 && !this.stopped; attempt++) {
      const r = await this.sender.send([msg], REVEAL_GAS)
      const d = r.code === 0 ? await this.chain.waitForTx(r.txhash, 20_000).catch(() => undefined) : undefined
      if (d?.code === 0) return void this.log(`task ${short(id)}: revealed ${rec.argsError ? 'the error report' : 'the score'} (tx ${r.txhash})`)
      this.log(`task ${short(id)}: reveal attempt ${attempt} failed: ${d ? d.log : r.code !== 0 ? r.log : 'not included'}`)
      this.sender.resync()
      await sleep(1000 * attempt)
    }
  }

  private taskEnded(e: TaskEnded): void {
    const id = hex(e.taskIdCommitment)
    const rec = this.state.get(id)
    if (rec) this.state.put({ ...rec, phase: 'ended', endStatus: TaskStatus[e.status] })
    this.log(`task ${short(id)}: ended ${TaskStatus[e.status]}${e.abortReason ? ` (${e.abortReason})` : ''}`)
  }

  // ---- status file ---------------------------------------------------------------------------

  private get statusFile(): string {
    return path.join(this.o.config.home, 'data', 'worker-status.json')
  }

  private writeStatus(): void {
    const s: DaemonStatus = {
      pid: process.pid,
      address: this.address,
      startedAt: this.startedAt,
      gpu: this.gpu,
      models: this.models.map((m) => m.id),
      gateway: this.session?.gateway,
      currentTask: this.current,
      updatedAt: Date.now(),
    }
    fs.writeFileSync(this.statusFile + '.tmp', JSON.stringify(s, null, 2))
    fs.renameSync(this.statusFile + '.tmp', this.statusFile)
  }
}

/** What a lazy (cheating) worker returns: noise PNGs of the requested size. */
async function randomImages(args: unknown): Promise<Uint8Array[]> {
  const a = validateImageArgs(args)
  const out: Uint8Array[] = []
  for (let i = 0; i < a.num_images; i++) {
    out.push(
      await sharp(randomBytes(a.width * a.height * 3), { raw: { width: a.width, height: a.height, channels: 3 } })
        .png()
        .toBuffer(),
    )
  }
  return out
}
