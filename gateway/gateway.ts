import { randomBytes } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Connection, PeerId, PrivateKey, Stream } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import { createLibp2p, type Libp2p } from 'libp2p'
import { Envelope, ResultRequest, ResultResponse } from '../proto/gen/beryl/gateway/v1/gateway.ts'
import { AbortReason, type Task, TaskStatus } from '../proto/gen/beryl/task/v1/types.ts'
import { isTerminal } from '../modules/task/index.ts'
import { RESULT_PROTOCOL, WORKER_PROTOCOL, authDocument, verifyAuth } from './auth.ts'
import { PeerTable, type PeerTableLimits, type PeerTableSizes } from './peers.ts'
import { DEFAULT_RESULT_LIMITS, type ResultLimits, ResultStore, type StoredResult } from './results.ts'
import { uploadShapeError } from './upload.ts'

/** What the gateway needs from the chain: committed state only, never a block in progress. */
export interface GatewayBackend {
  /** Whether an account runs a joined GPU node. */
  isNode(address: string): boolean
  /** A node's most recent tasks (the running one and those waiting for their upload are among them). */
  nodeTasks(address: string): Promise<Task[]>
  task(commitment: Uint8Array): Task | undefined
  /** Checks uploaded files against the task's on-chain score; a reason when they do not match. */
  /** Checks an upload against the task's revealed score, or (with the node's salt) against its score commitment. */
  verifyOutputs(task: Task, files: Uint8Array[], salt: Uint8Array): Promise<{ error: string } | { score: Uint8Array }>
  /** Puts a signed tx in the mempool (CometBFT broadcast_tx_sync). */
  broadcastTx(tx: Uint8Array): Promise<{ code: number; codespace: string; log: string; txhash: string }>
  /** Called once an output is stored: the attester puts its hash on chain. */
  onResultStored?(task: Task, stored: StoredResult): void
  /** Whether an account is the operator of a bonded validator (whose gateway may replicate outputs). */
  isValidator?(address: string): boolean
}

export interface GatewayOptions {
  chainId: string
  bech32Prefix: string
  /** libp2p listen addresses, e.g. /ip4/127.0.0.1/tcp/4001. */
  listen: string[]
  privateKey?: PrivateKey
  backend: GatewayBackend
  /** Where outputs are kept (a folder of the node's data directory). */
  resultDir: string
  limits?: Partial<GatewayLimits>
  log?: (msg: string) => void
  /** Counts what the gateway does, for the node's metrics (optional). */
  metrics?: GatewayMetrics
}

/** What the gateway reports to metrics: sessions opened, outputs stored and served, requests refused. */
export interface GatewayMetrics {
  sessionOpened(): void
  uploaded(): void
  downloaded(): void
  /** A refused session or result request: `auth`, `rate_limit`, `mismatch` (output does not match the score) or `other`. */
  rejected(reason: 'auth' | 'rate_limit' | 'mismatch' | 'other'): void
}

/**
 * Largest message a peer may send before it is authenticated (the challenge's answer, and on a result
 * stream the request without its files). A larger one is refused from its length prefix: the stream is
 * reset before its body is read, and no more than this is ever buffered for an unauthenticated stream.
 */
export const PRE_AUTH_MAX_MESSAGE_BYTES = 4 * 1024
/** Entries each per-peer table may hold (see `PeerTable`). */
export const MAX_PEER_ENTRIES = 1024
/** Streams, over all peers, that may wait for the answer to their challenge at once. */
export const MAX_PENDING_AUTH = 256
/** Connections the libp2p host keeps (libp2p's own default, named here because it bounds libp2p's per-peer state). */
export const MAX_CONNECTIONS = 300
/** How a download refused before settlement starts (the SDK waits and asks again). */
export const NOT_SETTLED = 'not settled yet'

export interface GatewayLimits extends ResultLimits, PeerTableLimits {
  /** Largest message on a worker stream after authentication. */
  maxMessageBytes: number
  /** Largest upload message (all of one task's files) on a result stream, read only after authentication. */
  maxResultMessageBytes: number
  /** Transactions one session may submit per minute. */
  maxTxPerMinute: number
  /** Time a peer has to answer the challenge. */
  authTimeoutMs: number
  /** Time the task's node has to send its files once the gateway asked for them. */
  uploadTimeoutMs: number
  /** Connections the libp2p host keeps open at once. */
  maxConnections: number
  /** New inbound connections accepted per second from one host (libp2p's per-host threshold). */
  connectionsPerHostPerSecond: number
  /** Messages queued for a worker that does not read before its session is dropped. */
  maxQueuedPushes: number
  /** A connection left with no Beryl stream is closed after this long (its slot of `maxConnections` freed). */
  idleConnectionMs: number
  /** Inbound connections being upgraded (noise handshake, muxer) at once; libp2p refuses more by closing the socket. */
  maxIncomingPendingConnections: number
}

const DEFAULT_LIMITS: GatewayLimits = {
  ...DEFAULT_RESULT_LIMITS,
  maxMessageBytes: 1024 * 1024,
  maxResultMessageBytes: 40 * 1024 * 1024,
  maxStreamsPerPeer: 4,
  maxTxPerMinute: 120,
  maxResultsPerMinute: 30,
  maxPeerEntries: MAX_PEER_ENTRIES,
  maxPendingAuth: MAX_PENDING_AUTH,
  authTimeoutMs: 10_000,
  uploadTimeoutMs: 120_000,
  maxConnections: MAX_CONNECTIONS,
  connectionsPerHostPerSecond: 5,
  maxQueuedPushes: 256,
  idleConnectionMs: 2_000,
  maxIncomingPendingConnections: 64,
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** What a gateway holds now, by entry count: its per-peer tables, its sessions, libp2p's peers. */
export interface GatewayStats extends PeerTableSizes {
  /** Authenticated worker sessions. */
  sessions: number
  /** Task ids the sessions remember having pushed (each session: at most its node's listed tasks). */
  sessionTasks: number
  /** Peers with an open connection. */
  connectedPeers: number
  /** Entries of libp2p's peer store (pruned to the connected peers). */
  peerStore: number
}

/**
 * A stream's reader before authentication: a message over PRE_AUTH_MAX_MESSAGE_BYTES is refused from
 * its length prefix, and the read buffer (which fills as data arrives, read or not) is capped to the
 * same, so an unauthenticated peer is never buffered more than one small message.
 */
function preAuthReader(stream: Stream): LengthPrefixedStream<Stream> {
  return lpStream(stream, { maxDataLength: PRE_AUTH_MAX_MESSAGE_BYTES, maxBufferSize: PRE_AUTH_MAX_MESSAGE_BYTES + 16 })
}

/** The same stream's reader once its peer is authenticated, with the protocol's own limit. */
function authenticatedReader(pre: LengthPrefixedStream<Stream>, maxMessageBytes: number): LengthPrefixedStream<Stream> {
  // libp2p's default read buffer is 4 MiB; a message may be larger (result uploads).
  return lpStream(pre.unwrap(), { maxDataLength: maxMessageBytes, maxBufferSize: Math.max(4 * 1024 * 1024, maxMessageBytes + 16) })
}

/** One authenticated worker stream and what it has been told. */
class WorkerSession {
  readonly assigned = new Set<string>()
  readonly uploadAsked = new Set<string>()
  readonly ended = new Set<string>()
  readonly revealAsked = new Set<string>()
  private writing: Promise<void> = Promise.resolve()
  private queued = 0

  constructor(
    readonly address: string,
    private readonly lp: LengthPrefixedStream<Stream>,
    private readonly stream: Stream,
    private readonly maxQueued: number,
  ) {}

  /** Forgets the tasks no longer among the node's listed tasks, so that a long session holds no more than that list. */
  keepOnly(listed: Set<string>): void {
    for (const set of [this.assigned, this.uploadAsked, this.ended]) for (const id of set) if (!listed.has(id)) set.delete(id)
  }

  get trackedTasks(): number {
    return this.assigned.size + this.uploadAsked.size + this.ended.size
  }

  /** Sends in order; a worker that stops reading is dropped instead of holding memory. */
  send(e: Envelope): Promise<void> {
    if (++this.queued > this.maxQueued) {
      this.stream.abort(new Error('the worker does not read its messages'))
      return Promise.resolve()
    }
    const bytes = Envelope.encode(e).finish()
    this.writing = this.writing
      .then(() => this.lp.write(bytes))
      .catch(() => {})
      .finally(() => {
        this.queued--
      })
    return this.writing
  }

  /** Ends the session once what is queued has been written. */
  async end(): Promise<void> {
    await this.writing
    await this.stream.close().catch(() => this.stream.abort(new Error('session ended')))
  }
}

/**
 * The gateway a validator's node runs for GPU workers and for applications (libp2p: tcp, noise,
 * yamux, identify, ping).
 *
 * `/beryl/worker/1`: a worker proves control of a joined node's account; the gateway then pushes the
 * node's assignments and upload requests as blocks commit (and again on every new session until
 * they are done), and broadcasts the signed transactions the worker hands over.
 *
 * `/beryl/result/1`: one request per stream, authenticated the same way. The task's node uploads a
 * validated task's output (its files only once the gateway asks for them), accepted only in the
 * shape the task asks for and if it matches the on-chain score; the task's creator downloads it.
 *
 * An unauthenticated peer can do nothing but answer the challenge, in at most 4 KiB; every message,
 * stream count, rate and per-peer table is bounded, and one peer's misbehaviour closes only its own
 * stream.
 */
export class Gateway {
  private node?: Libp2p
  private readonly limits: GatewayLimits
  /** Every per-peer map of the gateway is in here, capped and pruned. */
  private readonly peers: PeerTable
  private readonly sessions = new Set<WorkerSession>()
  private readonly log: (m: string) => void
  readonly results: ResultStore
  private pushing?: Promise<void>
  private pushAgain = false
  private purgeTimer?: NodeJS.Timeout
  private pruneTimer?: NodeJS.Timeout

  constructor(private readonly opts: GatewayOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits }
    this.log = opts.log ?? (() => {})
    this.results = new ResultStore(opts.resultDir, this.limits)
    this.peers = new PeerTable(this.limits)
  }

  async start(): Promise<void> {
    this.node = await createLibp2p({
      ...(this.opts.privateKey ? { privateKey: this.opts.privateKey } : {}),
      addresses: { listen: this.opts.listen },
      connectionManager: {
        inboundConnectionThreshold: this.limits.connectionsPerHostPerSecond,
        maxConnections: this.limits.maxConnections,
        maxIncomingPendingConnections: this.limits.maxIncomingPendingConnections,
      },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify(), ping: ping() },
    })
    const handler = (serve: (s: Stream, c: Connection) => Promise<void>) => (stream: Stream, connection: Connection) => {
      const peer = connection.remotePeer.toString()
      const refused = this.peers.openStream(peer)
      if (refused) return void stream.abort(new Error(refused))
      void serve(stream, connection)
        .catch((err) => {
          this.log(`gateway: stream from ${peer} ended: ${(err as Error).message}`)
          stream.abort(err as Error)
        })
        .finally(() => {
          this.peers.closeStream(peer)
          this.releaseIdle(connection)
        })
    }
    await this.node.handle(
      WORKER_PROTOCOL,
      handler((s, c) => this.serveWorker(s, c)),
      { maxInboundStreams: 256 },
    )
    await this.node.handle(
      RESULT_PROTOCOL,
      handler((s, c) => this.serveResult(s, c)),
      { maxInboundStreams: 256 },
    )
    // libp2p keeps a peer-store entry for every peer that ever opened a stream; the gateway dials no
    // worker, so a peer is forgotten when its last connection closes, when a write lands after that
    // (identify finishing late), and by the minute's sweep.
    const node = this.node
    const forget = (id: PeerId) => {
      if (!id.equals(node.peerId) && node.getConnections(id).length === 0) void node.peerStore.delete(id).catch(() => {})
    }
    node.addEventListener('peer:disconnect', (evt) => forget(evt.detail))
    node.addEventListener('peer:update', (evt) => forget(evt.detail.peer.id))
    this.pruneTimer = setInterval(() => void this.prunePeers(), 60_000).unref()
    // Expired outputs go every ten minutes (and whenever the store is full).
    this.purgeTimer = setInterval(() => {
      try {
        this.results.purgeExpired()
      } catch (err) {
        this.log(`gateway: purging expired outputs: ${(err as Error).message}`)
      }
    }, 600_000).unref()
  }

  get multiaddrs(): string[] {
    return this.node?.getMultiaddrs().map((m) => m.toString()) ?? []
  }
  get peerId(): string {
    return this.node!.peerId.toString()
  }

  async stop(): Promise<void> {
    clearInterval(this.purgeTimer)
    clearInterval(this.pruneTimer)
    await this.node?.stop()
  }

  /**
   * A block committed: tell every worker what changed for its node. Runs one pass at a time; a
   * commit during a pass schedules one more.
   */
  notifyCommitted(height: bigint): void {
    if (this.pushing) {
      this.pushAgain = true
      return
    }
    this.pushing = (async () => {
      do {
        this.pushAgain = false
        await Promise.all(
          [...this.sessions].map((s) => this.pushTo(s, height).catch((err) => this.log(`gateway: push to ${s.address} failed: ${(err as Error).message}`))),
        )
      } while (this.pushAgain)
    })().finally(() => {
      this.pushing = undefined
    })
  }

  private async pushTo(s: WorkerSession, height: bigint): Promise<void> {
    const tasks = await this.opts.backend.nodeTasks(s.address)
    for (const t of tasks) {
      if (t.selectedNode !== s.address) continue
      const id = hex(t.taskIdCommitment)
      if (t.status === TaskStatus.TASK_STATUS_STARTED) {
        if (s.assigned.has(id)) continue
        s.assigned.add(id)
        void s.send({
          assignment: { taskIdCommitment: t.taskIdCommitment, taskType: t.taskType, args: t.args, modelIds: t.modelIds, deadline: t.deadline, height },
        })
      } else if (t.status === TaskStatus.TASK_STATUS_VALIDATED || t.status === TaskStatus.TASK_STATUS_GROUP_VALIDATED) {
        if (s.uploadAsked.has(id) || this.results.get(id)) continue
        s.uploadAsked.add(id)
        void s.send({ uploadRequest: { taskIdCommitment: t.taskIdCommitment, deadline: t.deadline } })
      } else if (
        t.revealStart &&
        t.salt.length === 0 &&
        (t.status === TaskStatus.TASK_STATUS_SCORE_READY || t.status === TaskStatus.TASK_STATUS_GROUP_PENDING)
      ) {
        if (s.revealAsked.has(id)) continue
        s.revealAsked.add(id)
        const root = t.validationOf.length ? this.opts.backend.task(t.validationOf) : t
        void s.send({ revealRequest: { taskIdCommitment: t.taskIdCommitment, deadline: root?.deadline ?? 0n } })
      } else if (isTerminal(t.status) && (s.assigned.has(id) || s.uploadAsked.has(id)) && !s.ended.has(id)) {
        s.ended.add(id)
        void s.send({ taskEnded: { taskIdCommitment: t.taskIdCommitment, status: t.status, abortReason: t.abortReason } })
      }
    }
    s.keepOnly(new Set(tasks.map((t) => hex(t.taskIdCommitment))))
    // A node that left (quit, slashed, kicked out) loses its session; it cannot open another.
    if (!this.opts.backend.isNode(s.address)) {
      this.log(`gateway: ${s.address} is no longer a node; closing its session`)
      this.sessions.delete(s)
      await s.end()
    }
  }

  /** The challenge on a fresh stream and the proof in reply; the proven address or a reason. */
  private async authenticate(
    protocol: string,
    peer: string,
    send: (e: Envelope) => Promise<void>,
    readAuth: (signal: AbortSignal) => Promise<{ auth?: ResultRequest['auth'] }>,
  ): Promise<{ address: string } | { error: string }> {
    if (!this.peers.beginAuth()) throw new Error('too many streams wait for authentication')
    try {
      const nonce = randomBytes(32)
      await send({ challenge: { chainId: this.opts.chainId, nonce, workerPeerId: peer } })
      const reply = await readAuth(AbortSignal.timeout(this.limits.authTimeoutMs)).catch((err: Error) => {
        // Refused from its length prefix (or a read buffer past the limit): the body is never read.
        if (/^(InvalidDataLength|InvalidDataLengthLength|StreamBuffer)Error$/.test(err.name))
          throw new Error(`refused a message over ${PRE_AUTH_MAX_MESSAGE_BYTES} bytes before authentication (${err.message})`)
        throw err
      })
      if (!reply.auth) return { error: 'expected an auth message' }
      return verifyAuth(reply.auth, authDocument(protocol, this.opts.chainId, peer, nonce), this.opts.chainId, this.opts.bech32Prefix)
    } finally {
      this.peers.endAuth()
    }
  }

  private async serveWorker(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    let lp = preAuthReader(stream)
    const send = (e: Envelope) => lp.write(Envelope.encode(e).finish())
    const read = async (signal?: AbortSignal): Promise<Envelope> => {
      const bytes = await lp.read({ signal })
      try {
        return Envelope.decode(bytes.subarray())
      } catch {
        throw new Error('undecodable message')
      }
    }

    const r = await this.authenticate(WORKER_PROTOCOL, peer, send, read)
    const error = 'error' in r ? r.error : this.opts.backend.isNode(r.address) ? undefined : `${r.address} is not a joined GPU node`
    if (error || !('address' in r)) {
      this.opts.metrics?.rejected('auth')
      await send({ authResult: { ok: false, error: error! } })
      this.log(`gateway: refused ${peer}: ${error}`)
      return void (await stream.close())
    }
    lp = authenticatedReader(lp, this.limits.maxMessageBytes)
    await send({ authResult: { ok: true, error: '' } })
    this.opts.metrics?.sessionOpened()
    const session = new WorkerSession(r.address, lp, stream, this.limits.maxQueuedPushes)
    this.sessions.add(session)
    this.log(`gateway: worker ${r.address} connected from ${peer}`)
    try {
      // Everything still open for the node: a new session starts from nothing.
      void this.pushTo(session, 0n).catch((err) => this.log(`gateway: push to ${r.address} failed: ${(err as Error).message}`))
      const sent: number[] = []
      for (;;) {
        let msg: Envelope
        try {
          msg = await read()
        } catch (err) {
          if (/undecodable/.test((err as Error).message)) throw err
          return // the worker closed its side
        }
        if (!msg.submitTx) throw new Error('unexpected message after authentication')
        const now = Date.now()
        while (sent.length && sent[0]! < now - 60_000) sent.shift()
        if (sent.length >= this.limits.maxTxPerMinute) {
          void session.send({
            txResult: { requestId: msg.submitTx.requestId, code: 1, codespace: 'gateway', log: 'rate limit: too many transactions this minute', txhash: '' },
          })
          continue
        }
        sent.push(now)
        const res = await this.opts.backend.broadcastTx(msg.submitTx.tx)
        void session.send({ txResult: { requestId: msg.submitTx.requestId, ...res } })
      }
    } finally {
      this.sessions.delete(session)
      this.log(`gateway: worker ${r.address} disconnected`)
    }
  }

  private async serveResult(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    let lp = preAuthReader(stream)
    const answer = async (res: Partial<ResultResponse>) => {
      await lp.write(ResultResponse.encode(ResultResponse.fromPartial(res)).finish())
      await stream.close()
    }
    let request: ResultRequest | undefined
    const r = await this.authenticate(
      RESULT_PROTOCOL,
      peer,
      (e) => lp.write(Envelope.encode(e).finish()),
      async (signal) => {
        const bytes = await lp.read({ signal })
        try {
          request = ResultRequest.decode(bytes.subarray())
        } catch {
          throw new Error('undecodable message')
        }
        return request
      },
    )
    const m = this.opts.metrics
    if ('error' in r) {
      m?.rejected('auth')
      return answer({ error: r.error })
    }

    // Another validator's gateway pulling an output: not counted against the per-peer rate (one pull per
    // output it does not hold yet), refused at once to anyone else.
    if (request!.replicate) return this.serveReplica(request!, r.address, answer)

    if (!this.peers.takeResultRequest(peer)) {
      m?.rejected('rate_limit')
      return answer({ error: 'rate limit: too many result requests this minute' })
    }

    let req = request!
    if (req.files.length) return answer({ error: 'send the files only when the gateway asks for them (send_files)' })
    const id = hex(req.taskIdCommitment)
    const task = req.taskIdCommitment.length === 32 ? this.opts.backend.task(req.taskIdCommitment) : undefined
    if (!task) {
      m?.rejected('other')
      return answer({ error: `no task ${id} on chain` })
    }

    if (req.download) {
      if (task.creator !== r.address) return answer({ error: `only the task's creator (${task.creator}) may download its output` })
      if (!this.deliverable(task))
        return answer({
          error: `${NOT_SETTLED}: task ${id} is ${TaskStatus[task.status]}; its output is delivered once validators holding 2/3 of the bonded power attested it`,
        })
      const stored = this.results.get(id)
      const files = stored && this.results.read(id)
      if (!stored || !files)
        return answer({
          error: this.uploadPending(task) ? 'the output has not been uploaded yet; try again shortly' : 'this gateway holds no output for the task',
        })
      m?.downloaded()
      return answer({ ok: true, files, resultHash: Buffer.from(stored.resultHash, 'hex') })
    }

    if (task.selectedNode !== r.address) return answer({ error: `the task ran on ${task.selectedNode || 'no node'}, not ${r.address}` })
    const existing = this.results.get(id)
    if (existing) return answer({ ok: true, resultHash: Buffer.from(existing.resultHash, 'hex') })
    if (!this.uploadPending(task)) return answer({ error: `the task is ${TaskStatus[task.status]}; outputs are accepted once it is validated` })
    // Authenticated, the task's node, the task waits for its output: only now may the files come.
    lp = authenticatedReader(lp, this.limits.maxResultMessageBytes)
    await lp.write(ResultResponse.encode(ResultResponse.fromPartial({ sendFiles: true })).finish())
    req = { ...req, files: await this.readFiles(lp) }
    if (req.files.length === 0) return answer({ error: 'no files in the upload' })
    const accepted = await this.acceptOutput(task, req.files, req.salt, `the node ${r.address}`)
    if ('error' in accepted) return answer({ error: accepted.error })
    m?.uploaded()
    return answer({ ok: true, resultHash: Buffer.from(accepted.stored.resultHash, 'hex') })
  }

  /**
   * An output for a task waiting for it, from its node's upload or pulled from another validator's gateway: the
   * same checks either way (the files' count and PNG headers against the task, then the score on chain or the
   * node's commitment with the salt), then stored content-addressed and handed to the attester.
   */
  async acceptOutput(task: Task, files: Uint8Array[], salt: Uint8Array, from: string): Promise<{ error: string } | { stored: StoredResult }> {
    const id = hex(task.taskIdCommitment)
    const existing = this.results.get(id)
    if (existing) return { stored: existing }
    if (!this.uploadPending(task)) return { error: `the task is ${TaskStatus[task.status]}; outputs are accepted once it is validated` }
    const shape = uploadShapeError(task, files)
    if (shape) {
      this.log(`gateway: refused the output of task ${id} from ${from}: ${shape}`)
      this.opts.metrics?.rejected('mismatch')
      return { error: shape }
    }
    const checked = await this.opts.backend.verifyOutputs(task, files, salt)
    if ('error' in checked) {
      this.log(`gateway: refused the output of task ${id} from ${from}: ${checked.error}`)
      this.opts.metrics?.rejected('mismatch')
      return { error: checked.error }
    }
    let stored: StoredResult
    try {
      const reveal = task.score.length ? {} : { score: hex(checked.score), salt: hex(salt) }
      stored = this.results.put({ task: id, node: task.selectedNode, creator: task.creator, ...reveal }, files)
    } catch (err) {
      return { error: (err as Error).message }
    }
    this.log(`gateway: stored the output of task ${id} from ${from} (${files.length} file(s), ${stored.bytes} bytes)`)
    this.opts.backend.onResultStored?.(task, stored)
    return { stored }
  }

  /** A stored output for another validator's gateway, which checks it against the chain itself before attesting. */
  private async serveReplica(req: ResultRequest, address: string, answer: (res: Partial<ResultResponse>) => Promise<void>): Promise<void> {
    if (!this.opts.backend.isValidator?.(address)) {
      this.opts.metrics?.rejected('auth')
      return answer({ error: `${address} is not a bonded validator's operator: only validators' gateways replicate outputs` })
    }
    const id = hex(req.taskIdCommitment)
    const stored = this.results.get(id)
    const files = stored && this.results.read(id)
    if (!stored || !files) return answer({ error: `this gateway holds no output for task ${id}` })
    return answer({ ok: true, files, resultHash: Buffer.from(stored.resultHash, 'hex'), salt: Buffer.from(stored.salt ?? '', 'hex') })
  }

  /** The upload's second message: only its files count. */
  private async readFiles(lp: LengthPrefixedStream<Stream>): Promise<Uint8Array[]> {
    const bytes = await lp.read({ signal: AbortSignal.timeout(this.limits.uploadTimeoutMs) })
    try {
      return ResultRequest.decode(bytes.subarray()).files
    } catch {
      throw new Error('undecodable message')
    }
  }

  /** Workers with an open session now. */
  get sessionCount(): number {
    return this.sessions.size
  }

  /** Entry counts of everything the gateway keeps per peer or per session (each bounded; see `GatewayLimits`). */
  async stats(): Promise<GatewayStats> {
    return {
      ...this.peers.sizes(),
      sessions: this.sessions.size,
      sessionTasks: [...this.sessions].reduce((n, s) => n + s.trackedTasks, 0),
      connectedPeers: this.node?.getPeers().length ?? 0,
      peerStore: this.node ? (await this.node.peerStore.all()).filter((p) => !p.id.equals(this.node!.peerId)).length : 0,
    }
  }

  /** The minute's sweep: rate entries out of the window, and peer-store entries of peers no longer connected. */
  private async prunePeers(): Promise<void> {
    this.peers.prune()
    if (!this.node) return
    const connected = new Set(this.node.getPeers().map((p) => p.toString()))
    try {
      for (const p of await this.node.peerStore.all())
        if (!p.id.equals(this.node.peerId) && !connected.has(p.id.toString())) await this.node.peerStore.delete(p.id)
    } catch (err) {
      this.log(`gateway: pruning the peer store: ${(err as Error).message}`)
    }
  }

  /**
   * A connection that carries no Beryl stream any more (a creator's download, a node's upload, finished) is
   * closed after a short grace (docs/decisions/0023): the host's connections are a fixed budget
   * (`maxConnections`), worker sessions hold theirs for as long as they run, and a client that keeps an idle
   * connection open would hold a slot that a worker or another creator needs. libp2p refuses a connection
   * over the budget by closing its socket, which the client sees as ECONNRESET. A client that still wants
   * the connection simply dials again.
   */
  private releaseIdle(connection: Connection): void {
    // Checked after the grace only: the stream that just ended may still be listed until the peer closes its side.
    // An open stream still negotiating its protocol has none yet: it counts as busy.
    const busy = () => connection.streams.some((x) => x.status === 'open' && (!x.protocol || x.protocol === WORKER_PROTOCOL || x.protocol === RESULT_PROTOCOL))
    setTimeout(() => {
      if (connection.status !== 'open' || busy()) return
      void connection.close().catch((err: Error) => connection.abort(err))
    }, this.limits.idleConnectionMs).unref()
  }

  /**
   * Whether a task's output may go to its creator: once the validator set settled it (validators holding
   * 2/3 of the bonded power attested its result hash), or once the chain refunded it because no output was
   * attested in time (the creator paid nothing and may still take what was uploaded). Never before: an
   * output no quorum vouched for is not delivered.
   */
  private deliverable(t: Task): boolean {
    return (
      t.status === TaskStatus.TASK_STATUS_END_SUCCESS ||
      t.status === TaskStatus.TASK_STATUS_END_GROUP_SUCCESS ||
      (t.status === TaskStatus.TASK_STATUS_END_ABORTED && t.abortReason === AbortReason.ABORT_REASON_RESULT_UPLOAD_TIMEOUT)
    )
  }

  private uploadPending(t: Task): boolean {
    return t.status === TaskStatus.TASK_STATUS_VALIDATED || t.status === TaskStatus.TASK_STATUS_GROUP_VALIDATED
  }
}
