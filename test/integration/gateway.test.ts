import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { DirectSecp256k1Wallet } from '@cosmjs/proto-signing'
import { Gateway, PRE_AUTH_MAX_MESSAGE_BYTES } from '../../gateway/gateway.ts'
import { RESULT_PROTOCOL, WORKER_PROTOCOL } from '../../gateway/auth.ts'
import { answerChallenge, downloadResult, createClientHost, hangUpGateway, uploadResult } from '../../gateway/client.ts'
import { addressFromPubKey } from '../../chain/tx/crypto.ts'
import {
  type Assignment,
  type Auth,
  Envelope,
  ResultRequest,
  ResultResponse,
  type TaskEnded,
  type UploadRequest,
} from '../../proto/gen/beryl/gateway/v1/gateway.ts'
import { AbortReason, Task, TaskStatus, TaskType } from '../../proto/gen/beryl/task/v1/types.ts'
import { GatewaySession } from '../../worker/gateway/session.ts'
import { checkUpload } from '../../sdk/outputs.ts'
import { phashPng } from '../../outputs/phash/phash.ts'
import { pngWithHeader, runnerPng } from '../helpers/png.ts'

const key = (seed: string) => createHash('sha256').update(seed).digest()
const addressOf = (sk: Uint8Array) => addressFromPubKey(secp256k1.getPublicKey(sk, true), 'beryl')
const identity = async (sk: Uint8Array, chainId = 'beryl-gw-1') => ({
  chainId,
  signer: await DirectSecp256k1Wallet.fromKey(sk, 'beryl'),
  address: addressOf(sk),
})
/** Image task args at the size of the test PNG. */
const ARGS_64 = JSON.stringify({ prompt: 'x', width: 64, height: 64 })
/** An unsigned varint, as libp2p's length prefix. */
const varint = (n: number) => {
  const out: number[] = []
  for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n & 0x7f) | 0x80)
  return Uint8Array.of(...out, n)
}

/** Waits until `pred` holds (polling), or fails with `what`. */
async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v !== undefined && v !== false) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('gateway over real libp2p on loopback', function () {
  this.timeout(60_000)
  const joined = key('joined node')
  const other = key('another node')
  const outsider = key('not a node')
  const creator = key('the creator')
  const broadcasts: Uint8Array[] = []
  const stored: string[] = []
  const logs: string[] = []
  /** Calls of the backend's output check: the only way an uploaded file reaches the PNG decoder. */
  let verifyCalls = 0
  let PNG: Buffer
  const tasks = new Map<string, Task>()
  const members = new Set([addressOf(joined), addressOf(other)])
  let gw: Gateway
  let addr: string
  let dir: string

  const putTask = (id: number, change: Partial<Task>) => {
    const c = new Uint8Array(32).fill(id)
    const t = Task.fromPartial({
      taskIdCommitment: c,
      creator: addressOf(creator),
      selectedNode: addressOf(joined),
      taskType: TaskType.TASK_TYPE_IMAGE,
      args: '{"prompt":"x"}',
      deadline: 1000n,
      ...tasks.get(Buffer.from(c).toString('hex')),
      ...change,
    })
    tasks.set(Buffer.from(c).toString('hex'), t)
    return t
  }

  before(async () => {
    PNG = await runnerPng(64, 64)
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-gw-'))
    gw = new Gateway({
      chainId: 'beryl-gw-1',
      bech32Prefix: 'beryl',
      listen: ['/ip4/127.0.0.1/tcp/0'],
      resultDir: dir,
      backend: {
        isNode: (a) => members.has(a),
        nodeTasks: async (a) => [...tasks.values()].filter((t) => t.selectedNode === a),
        task: (c) => tasks.get(Buffer.from(c).toString('hex')),
        verifyOutputs: (t, files, salt) => {
          verifyCalls++
          return checkUpload(t, files, salt)
        },
        broadcastTx: async (tx) => {
          broadcasts.push(tx)
          return { code: 0, codespace: '', log: '', txhash: createHash('sha256').update(tx).digest('hex').toUpperCase() }
        },
        onResultStored: (t) => {
          stored.push(Buffer.from(t.taskIdCommitment).toString('hex'))
        },
      },
      // Every test dials from 127.0.0.1: raise the per-host connection rate. A long challenge timeout, so that a
      // stream closed quickly was closed by a limit, not by the timeout.
      limits: { maxTxPerMinute: 3, maxMessageBytes: 4096, connectionsPerHostPerSecond: 1000, authTimeoutMs: 20_000 },
      log: (m) => logs.push(m),
    })
    await gw.start()
    addr = gw.multiaddrs[0]!
  })
  after(async () => {
    await gw?.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  describe('/beryl/worker/1 authentication and limits', () => {
    it('a joined node proves its account and hands over signed transactions', async () => {
      const s = await GatewaySession.connect({ gateway: addr, ...(await identity(joined)) })
      try {
        assert.equal(s.address, addressOf(joined))
        const r = await s.submitTx(Uint8Array.of(1, 2, 3))
        assert.equal(r.code, 0)
        assert.deepEqual([...broadcasts.at(-1)!], [1, 2, 3])
      } finally {
        await s.close()
      }
    })

    it('an account that is not a joined node is refused', async () => {
      await assert.rejects(GatewaySession.connect({ gateway: addr, ...(await identity(outsider)) }), /is not a joined GPU node/)
    })

    it("the wrong key for a node's address is refused", async () => {
      await assert.rejects(
        GatewaySession.connect({
          gateway: addr,
          ...(await identity(outsider)),
          tamper: (a) => ({ ...a, address: addressOf(joined) }),
        }),
        /pub_key belongs to/,
      )
      await assert.rejects(
        GatewaySession.connect({
          gateway: addr,
          ...(await identity(joined)),
          tamper: (a) => ({ ...a, signature: secp256k1.sign(new Uint8Array(32).fill(7), outsider, { prehash: false }) }),
        }),
        /signature does not verify/,
      )
    })

    it('a replayed proof is refused: every challenge has a fresh nonce', async () => {
      const first = await GatewaySession.connect({ gateway: addr, ...(await identity(joined)) })
      const captured = first.lastAuth
      await first.close()
      await assert.rejects(GatewaySession.connect({ gateway: addr, ...(await identity(joined)), tamper: () => captured }), /signature does not verify/)
    })

    it('a wrong chain id is caught by the worker before it signs', async () => {
      await assert.rejects(GatewaySession.connect({ gateway: addr, ...(await identity(joined, 'other-chain')) }), /serves chain beryl-gw-1/)
    })

    it('garbage and oversized messages close only that stream; another session goes on', async () => {
      const good = await GatewaySession.connect({ gateway: addr, ...(await identity(joined)) })
      const raw = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
      try {
        for (const payload of [Uint8Array.of(0x0f, 1, 2), new Uint8Array(8192).fill(1)]) {
          const stream = await raw.dialProtocol(multiaddr(addr), WORKER_PROTOCOL)
          const lp = lpStream(stream, { maxDataLength: 1 << 20 })
          assert.ok(Envelope.decode((await lp.read()).subarray()).challenge)
          await lp.write(payload).catch(() => {})
          await assert.rejects(lp.read(), 'the gateway closes the stream')
        }
        assert.equal((await good.submitTx(Uint8Array.of(9))).code, 0, 'the honest session is unaffected')
      } finally {
        await raw.stop()
        await good.close()
      }
    })

    it('pre-auth oversize message is dropped without buffering', async () => {
      const good = await GatewaySession.connect({ gateway: addr, ...(await identity(joined)) })
      const raw = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
      const refusals = () => logs.filter((l) => l.includes(`refused a message over ${PRE_AUTH_MAX_MESSAGE_BYTES} bytes before authentication`)).length
      const before = { refusals: refusals(), verifyCalls, stored: stored.length }
      try {
        for (const protocol of [WORKER_PROTOCOL, RESULT_PROTOCOL]) {
          const stream = await raw.dialProtocol(multiaddr(addr), protocol)
          const lp = lpStream(stream, { maxDataLength: 1 << 20 })
          assert.ok(Envelope.decode((await lp.read()).subarray()).challenge)
          // Only the length prefix of a 40 MiB message, not one byte of its body: a gateway that read the body
          // would wait for it (here until its 20 s challenge timeout); this one resets the stream at once.
          const t0 = Date.now()
          stream.send(varint(40 * 1024 * 1024))
          await assert.rejects(lp.read(), `${protocol}: the gateway resets the stream`)
          assert.ok(Date.now() - t0 < 5_000, `${protocol}: reset from the prefix, after ${Date.now() - t0} ms`)
        }
        // An upload as one message with its (unchecked) proof, as the result protocol used to take it: 1 MiB.
        const stream = await raw.dialProtocol(multiaddr(addr), RESULT_PROTOCOL)
        const lp = lpStream(stream, { maxDataLength: 1 << 20 })
        assert.ok(Envelope.decode((await lp.read()).subarray()).challenge)
        const auth = { address: addressOf(joined), pubKey: secp256k1.getPublicKey(joined, true), signature: new Uint8Array(64) }
        const upload = ResultRequest.encode({
          auth,
          taskIdCommitment: new Uint8Array(32).fill(10),
          files: [new Uint8Array(1 << 20)],
          download: false,
          replicate: false,
          salt: new Uint8Array(),
        }).finish()
        await lp.write(upload).catch(() => {})
        await assert.rejects(lp.read(), 'the gateway resets the stream')
        await until('the three refusals in the log', () => refusals() - before.refusals === 3)
        assert.equal(verifyCalls, before.verifyCalls, 'nothing reached the output check')
        assert.equal(stored.length, before.stored)
        await until('no stream waits for authentication', async () => (await gw.stats()).pendingAuth === 0)
        assert.equal((await good.submitTx(Uint8Array.of(8))).code, 0, 'the honest session is unaffected')
      } finally {
        await raw.stop()
        await good.close()
      }
    })

    it('a session is rate-limited: past the per-minute budget the gateway answers with an error instead of broadcasting', async () => {
      const s = await GatewaySession.connect({ gateway: addr, ...(await identity(joined)) })
      try {
        const codes: number[] = []
        for (let i = 0; i < 4; i++) codes.push((await s.submitTx(Uint8Array.of(i))).code)
        assert.deepEqual(codes, [0, 0, 0, 1])
      } finally {
        await s.close()
      }
    })
  })

  describe('pushes as blocks commit', () => {
    it('pushes a started task, asks for the upload once validated, reports the end; a new session gets what is still open', async () => {
      const got = { assignments: [] as Assignment[], uploads: [] as UploadRequest[], ended: [] as TaskEnded[] }
      const handlers = {
        onAssignment: (a: Assignment) => got.assignments.push(a),
        onUploadRequest: (u: UploadRequest) => got.uploads.push(u),
        onTaskEnded: (e: TaskEnded) => got.ended.push(e),
      }
      putTask(1, { status: TaskStatus.TASK_STATUS_STARTED })
      putTask(2, { status: TaskStatus.TASK_STATUS_STARTED, selectedNode: addressOf(other) })
      const s = await GatewaySession.connect({ gateway: addr, ...(await identity(joined)), handlers })
      try {
        await until('the open assignment on connect', () => got.assignments.length === 1)
        assert.equal(got.assignments[0]!.taskIdCommitment[0], 1, "only this node's task")
        assert.equal(got.assignments[0]!.args, '{"prompt":"x"}')

        putTask(3, { status: TaskStatus.TASK_STATUS_STARTED })
        gw.notifyCommitted(5n)
        await until('the new assignment', () => got.assignments.length === 2)
        assert.equal(got.assignments[1]!.taskIdCommitment[0], 3)
        assert.equal(got.assignments[1]!.height, 5n)
        gw.notifyCommitted(6n)
        await new Promise((r) => setTimeout(r, 200))
        assert.equal(got.assignments.length, 2, 'an assignment is pushed once per session')

        putTask(1, { status: TaskStatus.TASK_STATUS_VALIDATED })
        putTask(3, { status: TaskStatus.TASK_STATUS_END_ABORTED, abortReason: 1 })
        gw.notifyCommitted(7n)
        await until('the upload request', () => got.uploads.length === 1)
        await until('the end of task 3', () => got.ended.length === 1)
        assert.equal(got.uploads[0]!.taskIdCommitment[0], 1)
        assert.equal(got.ended[0]!.taskIdCommitment[0], 3)
        assert.equal(got.ended[0]!.status, TaskStatus.TASK_STATUS_END_ABORTED)
      } finally {
        await s.close()
      }

      // Reconnect: the validated task still waits for its output.
      const again = { uploads: [] as UploadRequest[], assignments: [] as Assignment[] }
      const s2 = await GatewaySession.connect({
        gateway: addr,
        ...(await identity(joined)),
        handlers: { onUploadRequest: (u) => again.uploads.push(u), onAssignment: (a) => again.assignments.push(a) },
      })
      try {
        await until('the upload request again', () => again.uploads.length === 1)
        putTask(4, { status: TaskStatus.TASK_STATUS_STARTED })
        gw.notifyCommitted(8n)
        await until('a started task on the new session', () => again.assignments.length === 1)
      } finally {
        await s2.close()
      }
    })
  })

  it('a node that leaves the network loses its session at the next block', async () => {
    const late = key('a node about to be slashed')
    members.add(addressOf(late))
    const s = await GatewaySession.connect({ gateway: addr, ...(await identity(late)) })
    try {
      gw.notifyCommitted(9n)
      await new Promise((r) => setTimeout(r, 200))
      assert.equal(await Promise.race([s.closed, Promise.resolve('open')]), 'open', 'still a node: the session stays')
      members.delete(addressOf(late))
      gw.notifyCommitted(10n)
      assert.match(await s.closed, /closed the session/)
      await assert.rejects(GatewaySession.connect({ gateway: addr, ...(await identity(late)) }), /is not a joined GPU node/)
    } finally {
      await s.close()
    }
  })

  describe('/beryl/result/1', () => {
    let host: Awaited<ReturnType<typeof createClientHost>>
    before(async () => {
      host = await createClientHost()
    })
    after(async () => {
      await host.stop()
    })

    /** The gateway's first answer to a result request (sent without files), then the stream is dropped. */
    const firstAnswer = async (sk: Uint8Array, taskIdCommitment: Uint8Array): Promise<ResultResponse> => {
      const stream = await host.dialProtocol(multiaddr(addr), RESULT_PROTOCOL)
      try {
        const lp = lpStream(stream, { maxDataLength: 1 << 20 })
        await answerChallenge(lp, RESULT_PROTOCOL, host, await identity(sk), (auth) =>
          ResultRequest.encode({ auth, taskIdCommitment, files: [], download: false, replicate: false, salt: new Uint8Array() }).finish(),
        )
        return ResultResponse.decode((await lp.read()).subarray())
      } finally {
        stream.abort(new Error('done'))
      }
    }

    it("accepts only the node's output that matches its score; the creator alone downloads it", async () => {
      const score = await phashPng(PNG)
      const t = putTask(10, { status: TaskStatus.TASK_STATUS_STARTED, score, args: ARGS_64 })
      const up = (sk: Uint8Array, files: Uint8Array[]) => identity(sk).then((id) => uploadResult(host, addr, id, t.taskIdCommitment, files))

      await assert.rejects(up(joined, [PNG]), /outputs are accepted once it is validated/)
      putTask(10, { status: TaskStatus.TASK_STATUS_VALIDATED })
      await assert.rejects(up(other, [PNG]), /the task ran on/)
      await assert.rejects(up(joined, [Buffer.from('not a png')]), /9 bytes is too short for a PNG/)
      await assert.rejects(up(joined, [PNG, PNG]), /the task asks for 1 image\(s\); the upload has 2/)
      const wrong = Buffer.from(score)
      wrong[0]! ^= 1
      putTask(11, { status: TaskStatus.TASK_STATUS_VALIDATED, score: wrong, args: ARGS_64 })
      await assert.rejects(
        identity(joined).then((id) => uploadResult(host, addr, id, new Uint8Array(32).fill(11), [PNG])),
        /the score on chain is/,
      )
      assert.deepEqual(stored, [], 'nothing stored for refused uploads')
      await assert.rejects(downloadResult(addr, await identity(creator), t.taskIdCommitment, host), /not settled yet: .* is TASK_STATUS_VALIDATED/)

      const hash = await up(joined, [PNG])
      assert.deepEqual(stored, [Buffer.from(t.taskIdCommitment).toString('hex')])
      assert.deepEqual(Buffer.from(hash), createHash('sha256').update(createHash('sha256').update(PNG).digest()).digest())
      assert.deepEqual(await up(joined, [PNG]), hash, 'a repeated upload is accepted without storing twice')
      assert.equal(stored.length, 1)

      await assert.rejects(downloadResult(addr, await identity(joined), t.taskIdCommitment, host), /only the task's creator/)
      // Stored, but not delivered before validators with 2/3 of the power attested it (docs/decisions/0023).
      await assert.rejects(downloadResult(addr, await identity(creator), t.taskIdCommitment, host), /not settled yet/)
      putTask(10, { status: TaskStatus.TASK_STATUS_END_SUCCESS })
      const d = await downloadResult(addr, await identity(creator), t.taskIdCommitment)
      assert.equal(d.files.length, 1)
      assert.ok(Buffer.from(d.files[0]!).equals(PNG))
      assert.deepEqual(d.resultHash, hash)
      await assert.rejects(downloadResult(addr, await identity(creator), new Uint8Array(32).fill(99), host), /no task/)
    })

    it("a validated single task's upload carries the salt: the files' score must open the node's commitment, and the reveal is kept for the attestation", async () => {
      const score = await phashPng(PNG)
      const salt = Buffer.alloc(32, 3)
      const commitment = createHash('sha256').update(score).update(salt).digest()
      const t = putTask(12, { status: TaskStatus.TASK_STATUS_VALIDATED, score: new Uint8Array(), scoreCommitment: commitment, args: ARGS_64 })
      const up = async (s: Uint8Array) => uploadResult(host, addr, await identity(joined), t.taskIdCommitment, [PNG], s)
      await assert.rejects(up(new Uint8Array()), /carries the 32-byte salt/)
      await assert.rejects(up(Buffer.alloc(32, 4)), /not the commitment on chain/)
      assert.equal(gw.results.get(Buffer.from(t.taskIdCommitment).toString('hex')), undefined, 'nothing stored')
      await up(salt)
      const kept = gw.results.get(Buffer.from(t.taskIdCommitment).toString('hex'))!
      assert.deepEqual([kept.score, kept.salt], [Buffer.from(score).toString('hex'), salt.toString('hex')])
    })

    it('a text output is checked by sha256', async () => {
      const out = Buffer.from('{"choices":[]}')
      const t = putTask(20, {
        status: TaskStatus.TASK_STATUS_GROUP_VALIDATED,
        taskType: TaskType.TASK_TYPE_TEXT,
        score: createHash('sha256').update(out).digest(),
      })
      await assert.rejects(uploadResult(host, addr, await identity(joined), t.taskIdCommitment, [Buffer.from('{"choices":[1]}')]), /sha256/)
      await uploadResult(host, addr, await identity(joined), t.taskIdCommitment, [out])
      putTask(20, { status: TaskStatus.TASK_STATUS_END_GROUP_SUCCESS })
      const d = await downloadResult(addr, await identity(creator), t.taskIdCommitment, host)
      assert.equal(Buffer.from(d.files[0]!).toString(), out.toString())
    })

    it("upload from a node that is not the task's node is refused", async () => {
      const t = putTask(30, { status: TaskStatus.TASK_STATUS_VALIDATED, score: await phashPng(PNG), args: ARGS_64 })
      const before = { verifyCalls, stored: stored.length }
      const up = async (id: Awaited<ReturnType<typeof identity>> & { tamper?: (a: Auth) => Auth }) => uploadResult(host, addr, id, t.taskIdCommitment, [PNG])
      await assert.rejects(up(await identity(other)), new RegExp(`the task ran on ${addressOf(joined)}, not ${addressOf(other)}`))
      await assert.rejects(up(await identity(outsider)), /the task ran on/)
      // The node's address without the node's key: refused at authentication.
      await assert.rejects(up({ ...(await identity(outsider)), tamper: (a) => ({ ...a, address: addressOf(joined) }) }), /pub_key belongs to/)
      // The refusal comes before any file is asked for; the task's node is asked for them.
      const theirs = await firstAnswer(other, t.taskIdCommitment)
      assert.deepEqual([theirs.ok, theirs.sendFiles], [false, false])
      assert.match(theirs.error, /the task ran on/)
      assert.equal((await firstAnswer(joined, t.taskIdCommitment)).sendFiles, true)
      assert.equal(verifyCalls, before.verifyCalls, 'no file of a refused upload was checked')
      assert.equal(stored.length, before.stored, 'nothing stored')
      // The task's node itself goes through.
      await uploadResult(host, addr, await identity(joined), t.taskIdCommitment, [PNG])
      assert.equal(stored.length, before.stored + 1)
    })

    it('PNG bomb refused from its header', async () => {
      const t = putTask(31, { status: TaskStatus.TASK_STATUS_VALIDATED, score: await phashPng(PNG), args: ARGS_64 })
      const up = async (files: Uint8Array[]) => uploadResult(host, addr, await identity(joined), t.taskIdCommitment, files)
      const before = verifyCalls
      // 16383 × 16383 RGBA, 16 bits a sample: 2 GiB of pixels from ~100 bytes, if a decoder believed the header.
      const bomb = pngWithHeader({ width: 16383, height: 16383, bitDepth: 16, colourType: 6 })
      await assert.rejects(up([bomb]), /file 0 is 16383×16383; the task asks for 64×64/)
      // At the task's size, but 16-bit RGBA: not what the runner writes.
      await assert.rejects(up([pngWithHeader({ width: 64, height: 64, bitDepth: 16, colourType: 6 })]), /bit depth 16 and colour type 6/)
      // More images than the task asks for.
      await assert.rejects(up([PNG, PNG]), /the task asks for 1 image\(s\); the upload has 2/)
      assert.equal(verifyCalls, before, 'the decoder was never called')
      // The counter counts: the task's real output is decoded and accepted.
      await up([PNG])
      assert.equal(verifyCalls, before + 1)
    })

    it("an upload over 4 MiB (libp2p's default read buffer) is read once the node is authenticated", async () => {
      const out = Buffer.alloc(6 * 1024 * 1024, '{"choices":[]} ')
      const t = putTask(32, { status: TaskStatus.TASK_STATUS_VALIDATED, taskType: TaskType.TASK_TYPE_TEXT, score: createHash('sha256').update(out).digest() })
      await uploadResult(host, addr, await identity(joined), t.taskIdCommitment, [out])
      // Refunded for want of an attestation in time: the creator may still take what was uploaded.
      putTask(32, { status: TaskStatus.TASK_STATUS_END_ABORTED, abortReason: AbortReason.ABORT_REASON_RESULT_UPLOAD_TIMEOUT })
      const d = await downloadResult(addr, await identity(creator), t.taskIdCommitment, host)
      assert.ok(Buffer.from(d.files[0]!).equals(out))
    })
  })

  describe('per-peer state', () => {
    it('peers that leave leave no entry behind: streams, challenges, sessions, libp2p peer store', async () => {
      for (let i = 0; i < 3; i++) {
        const s = await GatewaySession.connect({ gateway: addr, ...(await identity(joined)) })
        await s.close()
        await assert.rejects(downloadResult(addr, await identity(creator), new Uint8Array(32).fill(99)), /no task/)
      }
      const s = await until('every entry gone', async () => {
        const s = await gw.stats()
        return s.streams === 0 && s.pendingAuth === 0 && s.sessions === 0 && s.peerStore <= s.connectedPeers ? s : undefined
      })
      assert.ok(s.resultRate >= 1, 'rate entries stay for their minute')
    })

    it("a long session remembers no more tasks than its node's task list", async () => {
      const long = key('a node with a long session')
      members.add(addressOf(long))
      const ids = [40, 41, 42]
      for (const id of ids) putTask(id, { status: TaskStatus.TASK_STATUS_STARTED, selectedNode: addressOf(long) })
      const s = await GatewaySession.connect({ gateway: addr, ...(await identity(long)) })
      try {
        await until('the three assignments remembered', async () => (await gw.stats()).sessionTasks === 3)
        // The tasks leave the node's list (newer ones take their place, on chain): the session forgets them.
        for (const id of ids) tasks.delete(Buffer.alloc(32, id).toString('hex'))
        gw.notifyCommitted(50n)
        await until('the session forgets them', async () => (await gw.stats()).sessionTasks === 0)
        assert.equal((await gw.stats()).sessions, 1, 'the session itself goes on')
      } finally {
        await s.close()
        members.delete(addressOf(long))
      }
    })

    it("1 000 peer ids written to libp2p's peer store after they left are forgotten", async () => {
      const node = gw['node']!
      // What identify or a stream's protocol negotiation writes when it finishes after the peer disconnected.
      for (let i = 0; i < 1_000; i++) {
        const id = peerIdFromPublicKey(publicKeyFromRaw(createHash('sha256').update(`peer ${i}`).digest()))
        await node.peerStore.merge(id, { protocols: [WORKER_PROTOCOL] })
      }
      await gw['prunePeers']() // the minute's sweep, for any write that slipped past
      const s = await gw.stats()
      assert.ok(s.peerStore <= s.connectedPeers, `${s.peerStore} peer-store entries for ${s.connectedPeers} connected peers`)
    })
  })

  describe('connection slots (the resets of bench:tasks under load, docs/decisions/0023)', () => {
    /**
     * A gateway with a budget of 20 connections, 15 peers holding a worker stream open (sessions), and three
     * rounds of 10 creators, each downloading once with a host of its own that it keeps (as a BerylClient does).
     * Returns how many downloads were answered and how many ended in a reset connection.
     */
    async function crowd(o: { idleConnectionMs?: number; hangUp: boolean }): Promise<{ answered: number; reset: number; other: string[] }> {
      const d = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-gw-slots-'))
      const small = new Gateway({
        chainId: 'beryl-gw-1',
        bech32Prefix: 'beryl',
        listen: ['/ip4/127.0.0.1/tcp/0'],
        resultDir: d,
        backend: {
          isNode: () => false,
          nodeTasks: async () => [],
          task: () => undefined,
          verifyOutputs: async () => ({ error: 'unused' }),
          broadcastTx: async () => ({ code: 1, codespace: '', log: 'unused', txhash: '' }),
        },
        limits: {
          maxConnections: 20,
          connectionsPerHostPerSecond: 1000,
          authTimeoutMs: 60_000,
          ...(o.idleConnectionMs ? { idleConnectionMs: o.idleConnectionMs } : {}),
        },
      })
      await small.start()
      const at = small.multiaddrs[0]!
      const hosts: Array<Awaited<ReturnType<typeof createClientHost>>> = []
      const out = { answered: 0, reset: 0, other: [] as string[] }
      try {
        for (let i = 0; i < 15; i++) {
          const h = await createClientHost()
          hosts.push(h)
          await h.dialProtocol(multiaddr(at), WORKER_PROTOCOL)
        }
        const id = await identity(creator)
        for (let round = 0; round < 3; round++) {
          const creators = await Promise.all(Array.from({ length: 10 }, () => createClientHost()))
          hosts.push(...creators)
          await Promise.all(
            creators.map(async (h) => {
              try {
                await downloadResult(at, id, new Uint8Array(32).fill(99), h)
              } catch (err) {
                const m = (err as Error).message
                if (/no task/.test(m)) out.answered++
                else if (/ECONNRESET|reset|closed|aborted/i.test(m)) out.reset++
                else out.other.push(m)
              } finally {
                if (o.hangUp) await hangUpGateway(h, at)
              }
            }),
          )
          await new Promise((r) => setTimeout(r, 3_000))
        }
      } finally {
        await Promise.allSettled(hosts.map(async (h) => h.stop()))
        await small.stop()
        fs.rmSync(d, { recursive: true, force: true })
      }
      return out
    }

    it('clients that keep idle connections exhaust the budget: new ones are refused by a closed socket (ECONNRESET)', async () => {
      const r = await crowd({ idleConnectionMs: 1e9, hangUp: false })
      assert.deepEqual(r.other, [])
      assert.ok(r.reset >= 10, `${r.reset} resets, ${r.answered} answered: the 20 slots stay taken after the first round`)
    })

    it('with idle connections released (the gateway after 2 s, the SDK after each download) every download is answered', async () => {
      const r = await crowd({ hangUp: true })
      assert.deepEqual(r, { answered: 30, reset: 0, other: [] })
    })

    it('the gateway alone (clients that never hang up) frees the slots of finished downloads', async () => {
      const r = await crowd({ hangUp: false })
      assert.deepEqual(r, { answered: 30, reset: 0, other: [] })
    })
  })
})
