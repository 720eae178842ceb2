import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import {
  GasPrice,
  QueryClient,
  SigningStargateClient,
  createProtobufRpcClient,
  setupAuthExtension,
  setupBankExtension,
  type DeliverTxResponse,
} from '@cosmjs/stargate'
import { Comet38Client } from '@cosmjs/tendermint-rpc'
import { cometbftBinary } from '../../chain/node/cometbft.ts'
import { ecvrfProve, ecvrfPublicKey } from '../../modules/vss/index.ts'
import { QueryNodeQosRequest, QueryNodeQosResponse } from '../../proto/gen/beryl/qos/v1/query.ts'
import {
  QueryNodeRecordRequest,
  QueryNodeRecordResponse,
  QueryNodesRequest,
  QueryNodesResponse,
  QueryParamsRequest as StakingParamsRequest,
  QueryParamsResponse as StakingParamsResponse,
} from '../../proto/gen/beryl/staking/v1/query.ts'
import {
  QueryParamsRequest as TaskParamsRequest,
  QueryParamsResponse as TaskParamsResponse,
  QueryQueueRequest,
  QueryQueueResponse,
  QueryTaskRequest,
  QueryTaskResponse,
  QueryTasksRequest,
  QueryTasksResponse,
} from '../../proto/gen/beryl/task/v1/query.ts'
import { TaskStatus, TaskType, type Task } from '../../proto/gen/beryl/task/v1/types.ts'
import { QueryParamsRequest as VssParamsRequest, QueryParamsResponse as VssParamsResponse } from '../../proto/gen/beryl/vss/v1/query.ts'
import { berylRegistry } from '../../sdk/index.ts'
import { runBeryld, startTestNode, type TestNode } from '../helpers/node.ts'

const MODEL = '5a'.repeat(32)
const HONEST = Buffer.from('0102030405060708', 'hex')
/** The salt of every score commitment these tests send. */
const SALT = Buffer.alloc(32, 5)
const sha = (...p: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const x of p) h.update(x)
  return h.digest()
}

/** Everything a client can ask every module, as comparable JSON-ish values. */
async function snapshot(node: TestNode, creator: string) {
  const comet = await Comet38Client.connect(node.rpc)
  const qc = QueryClient.withExtensions(comet, setupAuthExtension, setupBankExtension)
  const rpc = createProtobufRpcClient(qc)
  const ask = async <T>(svc: string, m: string, req: Uint8Array, decode: (b: Uint8Array) => T) => decode(await rpc.request(svc, m, req))
  const accounts = []
  for (const a of [...node.accounts, node.operator]) {
    const acc = await qc.auth.account(a.address)
    accounts.push({ address: a.address, account: acc && Buffer.from(acc.value).toString('hex'), balances: await qc.bank.allBalances(a.address) })
  }
  const nodes = (
    await ask(
      'beryl.staking.v1.Query',
      'Nodes',
      QueryNodesRequest.encode({ status: 0, gpuName: '', key: new Uint8Array(), limit: 100 }).finish(),
      QueryNodesResponse.decode,
    )
  ).nodes
  const records = []
  const qos = []
  for (const a of node.accounts.slice(0, 3)) {
    records.push(
      (await ask('beryl.staking.v1.Query', 'NodeRecord', QueryNodeRecordRequest.encode({ address: a.address }).finish(), QueryNodeRecordResponse.decode))
        .record,
    )
    qos.push((await ask('beryl.qos.v1.Query', 'NodeQos', QueryNodeQosRequest.encode({ node: a.address }).finish(), QueryNodeQosResponse.decode)).qos)
  }
  const tasks = (
    await ask(
      'beryl.task.v1.Query',
      'Tasks',
      QueryTasksRequest.encode(QueryTasksRequest.fromPartial({ creator, limit: 100 })).finish(),
      QueryTasksResponse.decode,
    )
  ).tasks
  const queue = (await ask('beryl.task.v1.Query', 'Queue', QueryQueueRequest.encode({ limit: 100 }).finish(), QueryQueueResponse.decode)).tasks.map((t) =>
    Buffer.from(t.taskIdCommitment).toString('hex'),
  )
  const params = {
    staking: (await ask('beryl.staking.v1.Query', 'Params', StakingParamsRequest.encode({}).finish(), StakingParamsResponse.decode)).params,
    task: (await ask('beryl.task.v1.Query', 'Params', TaskParamsRequest.encode({}).finish(), TaskParamsResponse.decode)).params,
    vss: (await ask('beryl.vss.v1.Query', 'Params', VssParamsRequest.encode({}).finish(), VssParamsResponse.decode)).params,
  }
  const supply = await qc.bank.totalSupply()
  comet.disconnect()
  return { accounts, nodes, records, qos, tasks, queue, params, supply }
}

describe('genesis export: a chain restarted from `beryld export` has the same state', function () {
  this.timeout(300_000)
  let node: TestNode

  after(async () => {
    await node?.cleanup()
  })

  it('tasks in several terminal and open states, nodes, QoS, records, balances and params survive export and restart', async () => {
    // accounts: 0..2 GPU nodes, 3 creator, 4 the validator's operator (attester)
    node = await startTestNode({
      accounts: 4,
      genesis: (s) => {
        s.task = { params: { min_eligible_nodes: 3 } }
        s.vss = { params: { min_sampling_rate: '0' } }
      },
    })
    const clients: SigningStargateClient[] = []
    const everyone = [...node.accounts, node.operator]
    const actor = async (i: number) => {
      const wallet = await DirectSecp256k1HdWallet.fromMnemonic(everyone[i]!.mnemonic, { prefix: 'beryl' })
      const c = await SigningStargateClient.connectWithSigner(node.rpc, wallet, {
        registry: berylRegistry(),
        gasPrice: GasPrice.fromString('0.025uberyl'),
        broadcastPollIntervalMs: 200,
      })
      clients.push(c)
      return { address: everyone[i]!.address, c }
    }
    const send = async (who: { address: string; c: SigningStargateClient }, msgs: Array<{ typeUrl: string; value: unknown }>): Promise<DeliverTxResponse> => {
      const r = await who.c.signAndBroadcast(who.address, msgs, 'auto')
      assert.equal(r.code, 0, r.rawLog)
      return r
    }
    const [n0, n1, n2, creator, attester] = (await Promise.all([0, 1, 2, 3, 4].map(actor))) as Array<Awaited<ReturnType<typeof actor>>>
    const gpuNodes = [n0!, n1!, n2!]
    // Each bonds twice min_stake: the node holding D's unjudged answer must still take one of E1..E3
    // (a stake backs one unjudged answer per min_stake, docs/decisions/0024).
    for (const n of gpuNodes) {
      await send(n, [
        {
          typeUrl: '/beryl.staking.v1.MsgJoin',
          value: { address: n.address, gpuName: 'NVIDIA GeForce RTX 4090', gpuVramGb: 24, runnerVersion: '1.0.0', modelIds: [MODEL], stake: '800000000' },
        },
      ])
    }
    const comet = await Comet38Client.connect(node.rpc)
    const rpc = createProtobufRpcClient(QueryClient.withExtensions(comet))
    const task = async (c: Uint8Array): Promise<Task> =>
      QueryTaskResponse.decode(await rpc.request('beryl.task.v1.Query', 'Task', QueryTaskRequest.encode({ taskIdCommitment: c }).finish())).task!
    const vrfKey = sha(Buffer.from('export vrf'))
    const create = (name: string) => {
      const taskId = sha(Buffer.from(name))
      const nonce = sha(Buffer.from(`${name}/nonce`))
      const commitment = sha(taskId, nonce)
      const msg = {
        typeUrl: '/beryl.task.v1.MsgCreateTask',
        value: {
          creator: creator!.address,
          taskIdCommitment: commitment,
          nonce,
          taskType: TaskType.TASK_TYPE_IMAGE,
          args: JSON.stringify({ prompt: name }),
          modelIds: [MODEL],
          minVramGb: 8,
          requiredGpu: '',
          requiredGpuVramGb: 0,
          taskVersion: '1.0.0',
          fee: '1000',
          vrfPublicKey: ecvrfPublicKey(vrfKey),
        },
      }
      return { taskId, commitment, msg }
    }
    const nodeOf = (t: Task) => gpuNodes.find((n) => n.address === t.selectedNode)!

    // A: run, validated and attested → EndSuccess (the node earns, QoS health rewarded).
    const a = create('task a')
    await send(creator!, [a.msg])
    let ta = await task(a.commitment)
    await send(nodeOf(ta), [
      { typeUrl: '/beryl.task.v1.MsgSubmitScore', value: { node: ta.selectedNode, taskIdCommitment: a.commitment, scoreCommitment: sha(HONEST, SALT) } },
    ])
    ta = await task(a.commitment)
    await send(creator!, [
      {
        typeUrl: '/beryl.task.v1.MsgValidateTask',
        value: { creator: creator!.address, taskIdCommitments: [a.commitment], taskId: a.taskId, vrfProof: ecvrfProve(vrfKey, ta.samplingSeed) },
      },
    ])
    await send(attester!, [
      {
        typeUrl: '/beryl.task.v1.MsgAttestResult',
        value: { attester: attester!.address, taskIdCommitment: a.commitment, resultHash: sha(Buffer.from('a')), score: HONEST, salt: SALT },
      },
    ])
    assert.equal((await task(a.commitment)).status, TaskStatus.TASK_STATUS_END_SUCCESS)
    // B: created and cancelled in one transaction, before any node could take it → EndAborted(CreatorCancelled).
    const b = create('task b')
    await send(creator!, [b.msg, { typeUrl: '/beryl.task.v1.MsgCancelTask', value: { creator: creator!.address, taskIdCommitment: b.commitment } }])
    assert.equal((await task(b.commitment)).status, TaskStatus.TASK_STATUS_END_ABORTED)
    // D: started and scored, waiting for the creator's validation (open).
    const d = create('task d')
    await send(creator!, [d.msg])
    let td = await task(d.commitment)
    await send(nodeOf(td), [
      { typeUrl: '/beryl.task.v1.MsgSubmitScore', value: { node: td.selectedNode, taskIdCommitment: d.commitment, scoreCommitment: sha(HONEST, SALT) } },
    ])
    td = await task(d.commitment)
    assert.equal(td.status, TaskStatus.TASK_STATUS_SCORE_READY)
    // E1..E3 keep every node busy (open, running); C then waits in the queue (open, with its deadline).
    const es = ['task e1', 'task e2', 'task e3'].map((n) => create(n))
    await send(
      creator!,
      es.map((e) => e.msg),
    )
    for (const e of es) assert.equal((await task(e.commitment)).status, TaskStatus.TASK_STATUS_STARTED)
    const c = create('task c')
    await send(creator!, [c.msg])
    assert.equal((await task(c.commitment)).status, TaskStatus.TASK_STATUS_QUEUED)
    // A node asks to pause while busy (PendingPause).
    const idle = gpuNodes.find((n) => n.address !== td.selectedNode)!
    await send(idle, [{ typeUrl: '/beryl.staking.v1.MsgPause', value: { address: idle.address } }])
    comet.disconnect()

    const before = await snapshot(node, creator!.address)
    assert.equal(before.tasks.length, 7)
    assert.equal(before.queue.length, 1)
    assert.equal(before.nodes.length, 3)
    for (const cl of clients) cl.disconnect()

    // Stop, export, wipe the chain's data and start a new chain from the export.
    assert.equal(await node.stop(), 0)
    const file = path.join(node.home, 'exported.json')
    const ex = await runBeryld(['export', '--home', node.home, '--output-document', file])
    assert.equal(ex.code, 0, ex.stderr)
    const exported = JSON.parse(fs.readFileSync(file, 'utf8'))
    assert.ok(Number(exported.initial_height) > 1, 'the new chain continues the heights')
    assert.deepEqual(Object.keys(exported.app_state).sort(), ['auth', 'bank', 'qos', 'staking', 'task', 'validator', 'vss'])
    const reset = spawnSync(cometbftBinary(), ['unsafe-reset-all', '--home', node.home], { encoding: 'utf8' })
    assert.equal(reset.status, 0, reset.stderr)
    assert.equal(fs.existsSync(path.join(node.home, 'data', 'application.db')), false, 'the old state is gone')
    fs.copyFileSync(file, path.join(node.home, 'config', 'genesis.json'))
    await node.start()

    const after = await snapshot(node, creator!.address)
    assert.deepEqual(after, before)

    // The restarted chain goes on: the scored task is validated on it.
    const creator2 = await actor(3)
    await send(creator2, [
      {
        typeUrl: '/beryl.task.v1.MsgValidateTask',
        value: { creator: creator2.address, taskIdCommitments: [d.commitment], taskId: d.taskId, vrfProof: ecvrfProve(vrfKey, td.samplingSeed) },
      },
    ])
    const comet2 = await Comet38Client.connect(node.rpc)
    const rpc2 = createProtobufRpcClient(QueryClient.withExtensions(comet2))
    const tdAfter = QueryTaskResponse.decode(
      await rpc2.request('beryl.task.v1.Query', 'Task', QueryTaskRequest.encode({ taskIdCommitment: d.commitment }).finish()),
    ).task!
    assert.equal(tdAfter.status, TaskStatus.TASK_STATUS_VALIDATED)
    comet2.disconnect()
    creator2.c.disconnect()
  })

  it('refuses a running node, and a height the node does not keep', async () => {
    const running = await runBeryld(['export', '--home', node.home])
    assert.equal(running.code, 1)
    assert.match(running.stderr, /stop the node before exporting/)
    await node.stop()
    const wrong = await runBeryld(['export', '--home', node.home, '--height', '1'])
    assert.equal(wrong.code, 1)
    assert.match(wrong.stderr, /keeps only its latest state \(height \d+\); it cannot export height 1/)
  })
})
