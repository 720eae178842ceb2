import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { GasPrice, QueryClient, SigningStargateClient, createProtobufRpcClient, type DeliverTxResponse } from '@cosmjs/stargate'
import { Comet38Client } from '@cosmjs/tendermint-rpc'
import { ecvrfProve, ecvrfPublicKey } from '../../modules/vss/index.ts'
import { QueryTaskRequest, QueryTaskResponse } from '../../proto/gen/beryl/task/v1/query.ts'
import { TaskStatus, TaskType, type Task } from '../../proto/gen/beryl/task/v1/types.ts'
import { berylRegistry } from '../../sdk/index.ts'
import { runBeryld, startTestNode, type TestNode } from '../helpers/node.ts'

const MODEL = '5a'.repeat(32)
const STAKE = 400_000_000n
const SCORE = Buffer.from('0102030405060708', 'hex')
/** The salt of every score commitment these tests send. */
const SALT = Buffer.alloc(32, 5)
const sha = (...p: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const x of p) h.update(x)
  return h.digest()
}

interface Actor {
  name: string
  address: string
  client: SigningStargateClient
}
interface Entry {
  height: number
  time: string
  from: string | null
  to: string
  reason?: string
  node?: string
  source: 'tx' | 'block'
  txhash?: string
}
interface Payment {
  height: number
  to: string
  amount: string
  reason: string
  source: 'tx' | 'block'
  txhash?: string
}

const joinMsg = (address: string) => ({
  typeUrl: '/beryl.staking.v1.MsgJoin',
  value: { address, gpuName: 'NVIDIA GeForce RTX 4090', gpuVramGb: 24, runnerVersion: '1.0.0', modelIds: [MODEL], stake: STAKE.toString() },
})
function createMsg(creator: string, taskId: Uint8Array, tag: string, fee: bigint, vrfKey: Uint8Array, prompt: string, minVramGb = 8) {
  const nonce = sha(Buffer.from(tag))
  const commitment = sha(taskId, nonce)
  return {
    commitment,
    hex: commitment.toString('hex'),
    msg: {
      typeUrl: '/beryl.task.v1.MsgCreateTask',
      value: {
        creator,
        taskIdCommitment: commitment,
        nonce,
        taskType: TaskType.TASK_TYPE_IMAGE,
        args: JSON.stringify({ prompt }),
        modelIds: [MODEL],
        minVramGb,
        requiredGpu: '',
        requiredGpuVramGb: 0,
        taskVersion: '1.0.0',
        fee: fee.toString(),
        vrfPublicKey: ecvrfPublicKey(vrfKey),
      },
    },
  }
}

describe('beryld task show | list | cancel on a real chain', function () {
  this.timeout(240_000)

  let node: TestNode
  let actors: Actor[]
  let comet: Comet38Client
  let getTask: (c: Uint8Array) => Promise<Task>
  const send = async (who: Actor, msgs: Array<{ typeUrl: string; value: unknown }>): Promise<DeliverTxResponse> => {
    const r = await who.client.signAndBroadcast(who.address, msgs, 'auto')
    assert.equal(r.code, 0, r.rawLog)
    return r
  }
  const cli = (args: string[]) => runBeryld([...args, '--node', node.rpc])

  // accounts: 0..2 GPU nodes, 3 creator, 4 the validator's operator (attester). No sampling floor and a 1-uberyl fee: never sampled.
  let done: { hex: string; node: string; heights: Record<string, number> }
  before(async () => {
    node = await startTestNode({
      accounts: 4,
      genesis: (s) => {
        s.task = { params: { min_eligible_nodes: 3 } }
        s.vss = { params: { min_sampling_rate: '0' } }
      },
    })
    actors = []
    for (const a of [...node.accounts, node.operator]) {
      const wallet = await DirectSecp256k1HdWallet.fromMnemonic(a.mnemonic, { prefix: 'beryl' })
      const client = await SigningStargateClient.connectWithSigner(node.rpc, wallet, {
        registry: berylRegistry(),
        gasPrice: GasPrice.fromString('0.025uberyl'),
        broadcastPollIntervalMs: 200,
      })
      actors.push({ name: a.name, address: a.address, client })
    }
    comet = await Comet38Client.connect(node.rpc)
    const rpc = createProtobufRpcClient(QueryClient.withExtensions(comet))
    getTask = async (c) =>
      QueryTaskResponse.decode(await rpc.request('beryl.task.v1.Query', 'Task', QueryTaskRequest.encode({ taskIdCommitment: c }).finish())).task!
    await Promise.all([0, 1, 2].map((i) => send(actors[i]!, [joinMsg(actors[i]!.address)])))

    // One task through its whole life: started (EndBlock), score, validation, attestation.
    const [, , , creator, attester] = actors as [Actor, Actor, Actor, Actor, Actor]
    const taskId = sha(Buffer.from('view'))
    const vrfKey = sha(Buffer.from('view vrf'))
    const { commitment, hex, msg } = createMsg(creator.address, taskId, 'view/a', 1n, vrfKey, 'a quiet harbour')
    const created = await send(creator, [msg])
    const t = await getTask(commitment)
    assert.equal(t.status, TaskStatus.TASK_STATUS_STARTED)
    const nodeActor = actors.find((a) => a.address === t.selectedNode)!
    const score = await send(nodeActor, [
      { typeUrl: '/beryl.task.v1.MsgSubmitScore', value: { node: t.selectedNode, taskIdCommitment: commitment, scoreCommitment: sha(SCORE, SALT) } },
    ])
    const ready = await getTask(commitment)
    const validated = await send(creator, [
      {
        typeUrl: '/beryl.task.v1.MsgValidateTask',
        value: { creator: creator.address, taskIdCommitments: [commitment], taskId, vrfProof: ecvrfProve(vrfKey, ready.samplingSeed) },
      },
    ])
    const attested = await send(attester, [
      {
        typeUrl: '/beryl.task.v1.MsgAttestResult',
        value: { attester: attester.address, taskIdCommitment: commitment, resultHash: sha(Buffer.from('r')), score: SCORE, salt: SALT },
      },
    ])
    assert.equal((await getTask(commitment)).status, TaskStatus.TASK_STATUS_END_SUCCESS)
    done = { hex, node: t.selectedNode, heights: { created: created.height, score: score.height, validated: validated.height, attested: attested.height } }
  })
  after(async () => {
    for (const a of actors ?? []) a.client.disconnect()
    comet?.disconnect()
    await node?.cleanup()
  })

  it('task show --output json: the record, a timeline with heights, times and sources, and the payment', async () => {
    const r = await cli(['task', 'show', done.hex, '--output', 'json'])
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout) as { task: { status: string; selectedNode: string }; timeline: Entry[]; payments: Payment[] }
    assert.equal(out.task.status, 'TASK_STATUS_END_SUCCESS')
    assert.equal(out.task.selectedNode, done.node)
    const find = (from: string, to: string) => {
      const e = out.timeline.find((x) => x.from === `TASK_STATUS_${from}` && x.to === `TASK_STATUS_${to}`)
      assert.ok(e, `no ${from} → ${to} in ${JSON.stringify(out.timeline)}`)
      assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)
      return e
    }
    const started = find('QUEUED', 'STARTED')
    const ready = find('STARTED', 'SCORE_READY')
    const validated = find('SCORE_READY', 'VALIDATED')
    const ended = find('VALIDATED', 'END_SUCCESS')
    // Dispatch happens in the EndBlock of the creation block.
    assert.equal(started.source, 'block')
    assert.equal(started.txhash, undefined)
    assert.equal(started.node, done.node)
    assert.equal(started.height, done.heights.created)
    for (const [e, h] of [
      [ready, done.heights.score],
      [validated, done.heights.validated],
      [ended, done.heights.attested],
    ] as const) {
      assert.equal(e.source, 'tx')
      assert.match(e.txhash ?? '', /^[0-9A-F]{64}$/)
      assert.equal(e.height, h)
    }
    assert.ok(started.height < ready.height && ready.height < validated.height && validated.height < ended.height)
    // The creation precedes everything, in the creation tx, before the EndBlock dispatch at the same height.
    assert.deepEqual([out.timeline[0]!.from, out.timeline[0]!.to, out.timeline[0]!.source], [null, 'TASK_STATUS_QUEUED', 'tx'])
    assert.equal(out.timeline[0]!.height, done.heights.created)
    assert.equal(out.timeline.length, 5)
    const heights = out.timeline.map((e) => e.height)
    assert.deepEqual(
      heights,
      [...heights].sort((a, b) => a - b),
    )

    const pay = out.payments.find((p) => p.to === `node:${done.node}`)
    assert.ok(pay, JSON.stringify(out.payments))
    assert.equal(pay.amount, '1uberyl')
    assert.equal(pay.reason, 'task_income')
    assert.equal(pay.height, done.heights.attested)
    assert.equal(pay.source, 'tx')
  })

  it('task show (text): the record, then the timeline and payments', async () => {
    const r = await cli(['task', 'show', done.hex])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, new RegExp(`task\\s+${done.hex}`))
    assert.match(r.stdout, /status\s+end_success/)
    assert.match(r.stdout, /\ntimeline\n/)
    assert.match(r.stdout, new RegExp(`h ${done.heights.created}\\s+\\S+Z\\s+queued → started\\s+node ${done.node}\\s+\\(block\\)`))
    assert.match(r.stdout, /started → score_ready\s+\(tx [0-9A-F]{8}…\)/)
    assert.match(r.stdout, /validated → end_success/)
    assert.match(r.stdout, new RegExp(`\\npayments\\n\\s+h ${done.heights.attested}\\s+\\S+Z\\s+node:${done.node}\\s+1uberyl\\s+\\(task income\\)`))
  })

  it('task show: an unknown task exits 1 with "no task", a malformed id with a clear error', async () => {
    const unknown = 'ab'.repeat(32)
    const r = await cli(['task', 'show', unknown])
    assert.equal(r.code, 1)
    assert.match(r.stderr, new RegExp(`Error: no task ${unknown} on chain`))
    const bad = await cli(['task', 'show', 'xyz'])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /invalid task id "xyz".*32 bytes of hex/)
  })

  it('task list: one line per task, filters required', async () => {
    const creator = actors[3]!.address
    const r = await cli(['task', 'list', '--creator', creator])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trim().split('\n')
    assert.match(lines[0]!, /^TASK\s+STATUS\s+TYPE\s+FEE\s+NODE\s+CREATED$/)
    const row = lines.find((l) => l.startsWith(`${done.hex.slice(0, 16)}…`))
    assert.ok(row, r.stdout)
    assert.match(row, new RegExp(`end_success\\s+image\\s+1uberyl\\s+${done.node}\\s+\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`))

    const json = JSON.parse((await cli(['task', 'list', '--creator', creator, '-o', 'json'])).stdout)
    assert.ok(
      json.tasks.some((t: { taskIdCommitment: string }) => t.taskIdCommitment === done.hex),
      'ids in hex',
    )
    const byNode = JSON.parse((await cli(['task', 'list', '--gpu-node', done.node, '--status', 'end_success', '-o', 'json'])).stdout)
    assert.equal(byNode.tasks.length, 1)

    const none = await cli(['task', 'list'])
    assert.equal(none.code, 1)
    assert.match(none.stderr, /at least one filter/)
    const badStatus = await cli(['task', 'list', '--status', 'nope'])
    assert.equal(badStatus.code, 1)
    assert.match(badStatus.stderr, /unknown status nope/)
  })

  it('task cancel: a queued task is cancelled and refunded; the timeline shows it', async () => {
    const creator = actors[3]!
    // Every node is busy with a task of its own (no worker runs them), so this one waits in the queue.
    const busy = [1, 2, 3].map((i) => createMsg(creator.address, sha(Buffer.from(`busy ${i}`)), `busy/${i}`, 5000n, sha(Buffer.from('busy vrf')), `busy ${i}`))
    await send(
      creator,
      busy.map((b) => b.msg),
    )
    const q = createMsg(creator.address, sha(Buffer.from('queued')), 'queued/a', 5000n, sha(Buffer.from('queued vrf')), 'a big one')
    await send(creator, [q.msg])
    assert.equal((await getTask(q.commitment)).status, TaskStatus.TASK_STATUS_QUEUED)
    const r = await cli(['task', 'cancel', q.hex, '--from', creator.name, '--keyring-backend', 'test', '--home', node.home, '-o', 'json'])
    assert.equal(r.code, 0, r.stderr)
    const res = JSON.parse(r.stdout)
    assert.equal(res.code, 0)
    const t = await getTask(q.commitment)
    assert.equal(t.status, TaskStatus.TASK_STATUS_END_ABORTED)

    const shown = JSON.parse((await cli(['task', 'show', q.hex, '-o', 'json'])).stdout) as { timeline: Entry[]; payments: Payment[] }
    const last = shown.timeline.at(-1)!
    assert.deepEqual(
      [last.from, last.to, last.reason, last.source, last.txhash, last.height],
      ['TASK_STATUS_QUEUED', 'TASK_STATUS_END_ABORTED', 'ABORT_REASON_CREATOR_CANCELLED', 'tx', res.txhash, res.height],
    )
    assert.deepEqual(
      shown.payments.map((p) => [p.to, p.amount, p.reason]),
      [['creator', '5000uberyl', 'task_refund']],
    )
  })

  it("task cancel: a finished task fails with the chain's error and exit code 1", async () => {
    const r = await cli(['task', 'cancel', done.hex, '--from', actors[3]!.name, '--keyring-backend', 'test', '--home', node.home])
    assert.equal(r.code, 1, r.stdout)
    assert.match(r.stderr, /only a queued task can be cancelled; this one is TASK_STATUS_END_SUCCESS/)
    const missing = await cli(['task', 'cancel', done.hex, '--keyring-backend', 'test', '--home', node.home])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /--from/)
  })
})
