import type { Stream } from '@libp2p/interface'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'
import {
  type Assignment,
  type Auth,
  Envelope,
  type RevealRequest,
  type TaskEnded,
  type TxResult,
  type UploadRequest,
} from '../../proto/gen/beryl/gateway/v1/gateway.ts'
import { WORKER_PROTOCOL } from '../../gateway/auth.ts'
import { type GatewayIdentity, answerChallenge, createClientHost, uploadResult } from '../../gateway/client.ts'

/** What a gateway pushes to a worker. Handlers are given at connect: pushes start right after authentication. */
export interface SessionHandlers {
  onAssignment?(a: Assignment): void
  onUploadRequest?(u: UploadRequest): void
  onTaskEnded?(e: TaskEnded): void
  onRevealRequest?(r: RevealRequest): void
}

export interface SessionOptions extends GatewayIdentity {
  /** The gateway's multiaddr including /p2p/<peer id>. */
  gateway: string
  handlers?: SessionHandlers
}

type TxAnswer = Omit<TxResult, 'requestId'>

/**
 * A worker's authenticated session with one gateway: the gateway's pushes go to the handlers, and
 * signed transactions and result uploads go to the gateway. `closed` resolves with the reason when
 * the session ends for any cause.
 */
export class GatewaySession {
  private nextId = 1n
  private readonly pending = new Map<bigint, { resolve: (r: TxAnswer) => void; reject: (e: Error) => void }>()
  readonly closed: Promise<string>

  private constructor(
    private readonly host: Libp2p,
    private readonly stream: Stream,
    private readonly lp: LengthPrefixedStream<Stream>,
    private readonly o: SessionOptions,
    readonly lastAuth: Auth,
  ) {
    this.closed = this.readLoop()
  }

  get address(): string {
    return this.o.address
  }
  get gateway(): string {
    return this.o.gateway
  }

  static async connect(o: SessionOptions): Promise<GatewaySession> {
    const host = await createClientHost()
    try {
      const stream = await host.dialProtocol(multiaddr(o.gateway), WORKER_PROTOCOL, { signal: AbortSignal.timeout(15_000) })
      const lp = lpStream(stream, { maxDataLength: 1024 * 1024 })
      const auth = await answerChallenge(lp, WORKER_PROTOCOL, host, o, (a) => Envelope.encode({ auth: a }).finish())
      const result = Envelope.decode((await lp.read({ signal: AbortSignal.timeout(30_000) })).subarray()).authResult
      if (!result?.ok) throw new Error(`the gateway refused the session: ${result?.error ?? 'no answer'}`)
      return new GatewaySession(host, stream, lp, o, auth)
    } catch (err) {
      await host.stop()
      throw err
    }
  }

  private async readLoop(): Promise<string> {
    let reason = 'the gateway closed the session'
    try {
      for (;;) {
        const e = Envelope.decode((await this.lp.read()).subarray())
        if (e.txResult) {
          const p = this.pending.get(e.txResult.requestId)
          this.pending.delete(e.txResult.requestId)
          p?.resolve({ code: e.txResult.code, codespace: e.txResult.codespace, log: e.txResult.log, txhash: e.txResult.txhash })
        } else if (e.assignment) this.o.handlers?.onAssignment?.(e.assignment)
        else if (e.uploadRequest) this.o.handlers?.onUploadRequest?.(e.uploadRequest)
        else if (e.taskEnded) this.o.handlers?.onTaskEnded?.(e.taskEnded)
        else if (e.revealRequest) this.o.handlers?.onRevealRequest?.(e.revealRequest)
      }
    } catch (err) {
      const m = (err as Error).message
      if (m && !/unexpected end|end of input|stream ended|closed/i.test(m)) reason = `session error: ${m}`
    }
    for (const p of this.pending.values()) p.reject(new Error(reason))
    this.pending.clear()
    return reason
  }

  /** Hands a signed tx to the gateway; resolves with CometBFT's CheckTx code and log. */
  async submitTx(tx: Uint8Array): Promise<TxAnswer> {
    const requestId = this.nextId++
    const answer = new Promise<TxAnswer>((resolve, reject) => this.pending.set(requestId, { resolve, reject }))
    await this.lp.write(Envelope.encode({ submitTx: { requestId, tx } }).finish())
    return answer
  }

  /** Uploads a validated task's output over /beryl/result/1 on the same connection. */
  uploadResult(taskIdCommitment: Uint8Array, files: Uint8Array[], salt: Uint8Array): Promise<Uint8Array> {
    return uploadResult(this.host, this.o.gateway, this.o, taskIdCommitment, files, salt)
  }

  async close(): Promise<void> {
    await this.stream.close().catch(() => {})
    await this.host.stop()
  }
}
