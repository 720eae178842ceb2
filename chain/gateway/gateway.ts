import { randomBytes } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Connection, PrivateKey, Stream } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { createLibp2p, type Libp2p } from 'libp2p'
import { Envelope } from '../../proto/gen/beryl/gateway/v1/gateway.ts'
import { WORKER_PROTOCOL, authDocument, verifyAuth } from './auth.ts'

export interface GatewayOptions {
  chainId: string
  bech32Prefix: string
  /** libp2p listen addresses, e.g. /ip4/127.0.0.1/tcp/4001. */
  listen: string[]
  privateKey?: PrivateKey
  /** Whether an account runs a joined GPU node (read from committed chain state). */
  isNode(address: string): boolean
  /** Puts a signed tx in the mempool (CometBFT broadcast_tx_sync). */
  broadcastTx(tx: Uint8Array): Promise<{ code: number; codespace: string; log: string; txhash: string }>
  limits?: Partial<GatewayLimits>
  log?: (msg: string) => void
}

export interface GatewayLimits {
  /** Largest message on a worker stream. */
  maxMessageBytes: number
  /** Worker streams one peer may hold open. */
  maxStreamsPerPeer: number
  /** Transactions one session may submit per minute. */
  maxTxPerMinute: number
  /** Time a peer has to answer the challenge. */
  authTimeoutMs: number
  /** New inbound connections accepted per second from one host (libp2p's per-host threshold). */
  connectionsPerHostPerSecond: number
}

const DEFAULT_LIMITS: GatewayLimits = { maxMessageBytes: 1024 * 1024, maxStreamsPerPeer: 4, maxTxPerMinute: 120, authTimeoutMs: 10_000, connectionsPerHostPerSecond: 5 }

/**
 * The gateway a validator runs for GPU workers. A worker opens `/beryl/worker/1`, proves control of
 * a joined node's account, and then may hand over signed transactions. An unauthenticated peer can
 * do nothing but answer the challenge; every message, stream count and rate is bounded, and one
 * peer's misbehaviour closes only its own stream.
 */
export class Gateway {
  private node?: Libp2p
  private readonly limits: GatewayLimits
  private readonly streams = new Map<string, number>()
  private readonly log: (m: string) => void

  constructor(private readonly opts: GatewayOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits }
    this.log = opts.log ?? (() => {})
  }

  async start(): Promise<void> {
    this.node = await createLibp2p({
      ...(this.opts.privateKey ? { privateKey: this.opts.privateKey } : {}),
      addresses: { listen: this.opts.listen },
      connectionManager: { inboundConnectionThreshold: this.limits.connectionsPerHostPerSecond },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify(), ping: ping() },
    })
    await this.node.handle(WORKER_PROTOCOL, (stream: Stream, connection: Connection) => {
      void this.serve(stream, connection).catch((err) => {
        this.log(`gateway: session with ${connection.remotePeer.toString()} ended: ${(err as Error).message}`)
        stream.abort(err as Error)
      })
    }, { maxInboundStreams: 256 })
  }

  get multiaddrs(): string[] { return this.node?.getMultiaddrs().map((m) => m.toString()) ?? [] }
  get peerId(): string { return this.node!.peerId.toString() }

  async stop(): Promise<void> { await this.node?.stop() }

  private async serve(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const open = (this.streams.get(peer) ?? 0) + 1
    if (open > this.limits.maxStreamsPerPeer) {
      stream.abort(new Error('too many streams from this peer'))
      return
    }
    this.streams.set(peer, open)
    try {
      const lp = lpStream(stream, { maxDataLength: this.limits.maxMessageBytes })
      const send = (e: Envelope) => lp.write(Envelope.encode(e).finish())
      const read = async (signal?: AbortSignal): Promise<Envelope> => {
        const bytes = await lp.read({ signal })
        try {
          return Envelope.decode(bytes.subarray())
        } catch {
          throw new Error('undecodable message')
        }
      }

      // 1. The challenge, answered within authTimeoutMs.
      const nonce = randomBytes(32)
      await send({ challenge: { chainId: this.opts.chainId, nonce, workerPeerId: peer } })
      const reply = await read(AbortSignal.timeout(this.limits.authTimeoutMs))
      if (!reply.auth) {
        await send({ authResult: { ok: false, error: 'expected an auth message' } })
        return void (await stream.close())
      }
      const r = verifyAuth(reply.auth, authDocument(this.opts.chainId, peer, nonce), this.opts.bech32Prefix)
      const error = 'error' in r ? r.error : this.opts.isNode(r.address) ? undefined : `${r.address} is not a joined GPU node`
      if (error) {
        await send({ authResult: { ok: false, error } })
        this.log(`gateway: refused ${peer}: ${error}`)
        return void (await stream.close())
      }
      await send({ authResult: { ok: true, error: '' } })
      this.log(`gateway: worker ${('address' in r) ? r.address : ''} connected from ${peer}`)

      // 2. Transactions, rate-limited.
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
          await send({ txResult: { requestId: msg.submitTx.requestId, code: 1, codespace: 'gateway', log: 'rate limit: too many transactions this minute', txhash: '' } })
          continue
        }
        sent.push(now)
        const res = await this.opts.broadcastTx(msg.submitTx.tx)
        await send({ txResult: { requestId: msg.submitTx.requestId, ...res } })
      }
    } finally {
      this.streams.set(peer, (this.streams.get(peer) ?? 1) - 1)
    }
  }
}
