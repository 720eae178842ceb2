import net from 'node:net'
import { Request, Response } from 'cosmjs-types/tendermint/abci/types'
import { FrameError, FrameReader, frame } from './framing.ts'
import type { AbciApplication } from './types.ts'

export interface AbciServerOptions {
  /** Largest frame accepted; a FinalizeBlock request carries a whole block (CometBFT's default max is 21 MiB). */
  maxFrameBytes?: number
  log?: (msg: string) => void
}

/**
 * The ABCI 2.0 socket server. CometBFT opens four connections (query, snapshot, mempool,
 * consensus). Each connection's requests are answered one at a time in arrival order, and every
 * call into the application goes through one global queue, as the Go reference server does
 * with its global mutex: the application never sees two requests at once.
 *
 * Input never kills the process: a bad frame or an undecodable request gets an exception
 * response and that one connection is closed.
 */
export class AbciServer {
  private readonly server: net.Server
  private readonly sockets = new Set<net.Socket>()
  private appQueue: Promise<unknown> = Promise.resolve()
  private readonly maxFrameBytes: number
  private readonly log: (msg: string) => void

  constructor(
    private readonly app: AbciApplication,
    opts: AbciServerOptions = {},
  ) {
    this.maxFrameBytes = opts.maxFrameBytes ?? 128 * 1024 * 1024
    this.log = opts.log ?? (() => {})
    this.server = net.createServer((socket) => this.onConnection(socket))
  }

  listen(port: number, host = '127.0.0.1'): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
    await this.appQueue.catch(() => {})
  }

  /** Runs `fn` after every earlier application call has finished. */
  private serialized<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.appQueue.then(fn, fn)
    this.appQueue = run.catch(() => {})
    return run
  }

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket)
    socket.setNoDelay(true)
    const reader = new FrameReader(this.maxFrameBytes)
    let pending: Promise<void> = Promise.resolve()
    let closed = false
    const fail = (reason: string) => {
      if (closed) return
      closed = true
      this.log(`abci: closing connection from ${socket.remoteAddress}:${socket.remotePort}: ${reason}`)
      try {
        socket.end(frame(Response.encode(Response.fromPartial({ exception: { error: reason } })).finish()))
      } catch {
        socket.destroy()
      }
      setTimeout(() => socket.destroy(), 1000).unref()
    }
    socket.on('data', (chunk) => {
      if (closed) return
      let frames: Uint8Array[]
      try {
        frames = reader.push(chunk)
      } catch (err) {
        fail(err instanceof FrameError ? err.message : `bad frame: ${String(err)}`)
        return
      }
      if (frames.length === 0) return
      // Answers to one chunk's requests leave in one write (CometBFT pipelines CheckTx in batches).
      pending = pending.then(() => {
        if (!socket.destroyed) socket.cork()
      })
      for (const body of frames) {
        // Copy: the reader's buffer is reused, and handling is asynchronous.
        const bytes = Uint8Array.from(body)
        pending = pending.then(async () => {
          if (closed) return
          const response = await this.handleFrame(bytes)
          if ('error' in response) {
            fail(response.error)
            return
          }
          if (!socket.destroyed) socket.write(frame(response.bytes))
        })
      }
      pending = pending.then(() => {
        if (!socket.destroyed) socket.uncork()
      })
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      closed = true
      this.sockets.delete(socket)
    })
  }

  private async handleFrame(bytes: Uint8Array): Promise<{ bytes: Uint8Array } | { error: string }> {
    let req: Request
    try {
      req = Request.decode(bytes)
    } catch (err) {
      return { error: `undecodable ABCI request: ${(err as Error).message}` }
    }
    try {
      const res = await this.dispatch(req)
      if (res === undefined) return { error: 'empty or unknown ABCI request' }
      return { bytes: Response.encode(res).finish() }
    } catch (err) {
      // An application bug: report it on this connection rather than crash the process.
      this.log(`abci: application error: ${(err as Error).stack ?? err}`)
      return { error: `application error: ${(err as Error).message}` }
    }
  }

  private async dispatch(req: Request): Promise<Response | undefined> {
    const app = this.app
    if (req.echo) return Response.fromPartial({ echo: { message: req.echo.message } })
    if (req.flush) return Response.fromPartial({ flush: {} })
    if (req.info) return Response.fromPartial({ info: await this.serialized(() => app.info(req.info!)) })
    // Queries read committed state only and never touch the block being built, so they need not
    // wait behind consensus work (a slow query must not stall block production).
    if (req.query) return Response.fromPartial({ query: await app.query(req.query) })
    if (req.initChain) return Response.fromPartial({ initChain: await this.serialized(() => app.initChain(req.initChain!)) })
    if (req.checkTx) return Response.fromPartial({ checkTx: await this.serialized(() => app.checkTx(req.checkTx!)) })
    if (req.prepareProposal) return Response.fromPartial({ prepareProposal: await this.serialized(() => app.prepareProposal(req.prepareProposal!)) })
    if (req.processProposal) return Response.fromPartial({ processProposal: await this.serialized(() => app.processProposal(req.processProposal!)) })
    if (req.finalizeBlock) return Response.fromPartial({ finalizeBlock: await this.serialized(() => app.finalizeBlock(req.finalizeBlock!)) })
    if (req.commit) return Response.fromPartial({ commit: await this.serialized(() => app.commit()) })
    if (req.extendVote) {
      const r = app.extendVote ? await this.serialized(() => app.extendVote!(req.extendVote!)) : { voteExtension: new Uint8Array() }
      return Response.fromPartial({ extendVote: r })
    }
    if (req.verifyVoteExtension) {
      // ACCEPT (1) or REJECT (2), never UNKNOWN (0): CometBFT panics on it.
      const r = app.verifyVoteExtension ? await this.serialized(() => app.verifyVoteExtension!(req.verifyVoteExtension!)) : { status: 1 }
      return Response.fromPartial({ verifyVoteExtension: { status: r.status === 2 ? 2 : 1 } })
    }
    if (req.listSnapshots) return Response.fromPartial({ listSnapshots: { snapshots: [] } })
    if (req.offerSnapshot) return Response.fromPartial({ offerSnapshot: { result: 2 /* ABORT: no snapshot support yet */ } })
    if (req.loadSnapshotChunk) return Response.fromPartial({ loadSnapshotChunk: { chunk: new Uint8Array() } })
    if (req.applySnapshotChunk) return Response.fromPartial({ applySnapshotChunk: { result: 2 /* ABORT */ } })
    return undefined
  }
}
