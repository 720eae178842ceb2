import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { GasPrice, QueryClient, SigningStargateClient, createProtobufRpcClient, type DeliverTxResponse } from '@cosmjs/stargate'
import { Comet38Client } from '@cosmjs/tendermint-rpc'
import { ecvrfProve, ecvrfPublicKey } from '../../modules/vss/index.ts'
import { QueryTaskRequest, QueryTaskResponse } from '../../proto/gen/beryl/task/v1/query.ts'
import { QueryNodeRequest } from '../../proto/gen/beryl/staking/v1/query.ts'
import { TaskStatus, TaskType, type Task } from '../../proto/gen/beryl/task/v1/types.ts'
import { berylRegistry } from '../../sdk/index.ts'
import { runBeryld, startTestNode, type TestNode } from '../helpers/node.ts'

const beryld = runBeryld

const MODEL = '5a'.repeat(32)
const STAKE = 400_000_000n
const HONEST = Buffer.from('0102030405060708', 'hex')
const sha = (...p: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const x of p) h.update(x)
  return h.digest()
}

interface Actor {
  address: string
  client: SigningStargateClient
}

async function setup(node: TestNode) {
  const actors: Actor[] = []
  for (const a of [...node.accounts, node.operator]) {
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(a.mnemonic, { prefix: 'beryl' })
    const client = await SigningStargateClient.connectWithSigner(node.rpc, wallet, {
      registry: berylRegistry(),
      gasPrice: GasPrice.fromString('0.025uberyl'),
      broadcastPollIntervalMs: 200,
    })
    actors.push({ address: a.address, client })
  }
  const comet = await Comet38Client.connect(node.rpc)
  const rpc = createProtobufRpcClient(QueryClient.withExtensions(comet))
  const task = async (c: Uint8Array): Promise<Task> =>
    QueryTaskResponse.decode(await rpc.request('beryl.task.v1.Query', 'Task', QueryTaskRequest.encode({ taskIdCommitment: c }).finish())).task!
  const nodeExists = async (address: string) =>
    rpc.request('beryl.staking.v1.Query', 'Node', QueryNodeRequest.encode({ address }).finish()).then(
      () => true,
      () => false,
    )
  const send = async (who: Actor, msgs: Array<{ typeUrl: string; value: unknown }>): Promise<DeliverTxResponse> => {
    const r = await who.client.signAndBroadcast(who.address, msgs, 'auto')
    assert.equal(r.code, 0, r.rawLog)
    return r
  }
  const balance = async (address: string) => BigInt((await actors[0]!.client.getBalance(address, 'uberyl')).amount)
  const close = () => {
    for (const a of actors) a.client.disconnect()
    comet.disconnect()
  }
  return { actors, task, nodeExists, send, balance, close }
}

const joinMsg = (address: string) => ({
  typeUrl: '/beryl.staking.v1.MsgJoin',
  value: { address, gpuName: 'NVIDIA GeForce RTX 4090', gpuVramGb: 24, runnerVersion: '1.0.0', modelIds: [MODEL], stake: STAKE.toString() },
})
const createMsg = (creator: string, taskId: Uint8Array, tag: string, fee: bigint, vrfKey: Uint8Array, prompt: string) => {
  const nonce = sha(Buffer.from(tag))
  return {
    commitment: sha(taskId, nonce),
    msg: {
      typeUrl: '/beryl.task.v1.MsgCreateTask',
      value: {
        creator,
        taskIdCommitment: sha(taskId, nonce),
        nonce,
        taskType: TaskType.TASK_TYPE_IMAGE,
        args: JSON.stringify({ prompt }),
        modelIds: [MODEL],
        minVramGb: 8,
        requiredGpu: '',
        requiredGpuVramGb: 0,
        taskVersion: '1.0.0',
        fee: fee.toString(),
        vrfPublicKey: ecvrfPublicKey(vrfKey),
      },
    },
  }
}

describe('tasks on a real chain, signed with cosmjs', function () {
  this.timeout(240_000)

  describe('every task sampled (rate floor 100%): validation groups', () => {
    let node: TestNode
    let env: Awaited<ReturnType<typeof setup>>
    // accounts: 0..2 GPU nodes, 3 creator, 4 the validator's operator (attester)
    before(async () => {
      node = await startTestNode({
        accounts: 4,
        genesis: (s) => {
          s.task = { params: { min_eligible_nodes: 3 } }
          s.vss = { params: { min_sampling_rate: '1000000000000000000' } }
        },
      })
      env = await setup(node)
      await Promise.all([0, 1, 2].map((i) => env.send(env.actors[i]!, [joinMsg(env.actors[i]!.address)])))
    })
    after(async () => {
      env?.close()
      await node?.cleanup()
    })

    /** T1 created, committed and validated by its creator; the chain's two seats committed; all three reveal. */
    async function runGroup(prompt: string, scores: (i: number) => Buffer) {
      const [, , , creator, attester] = env.actors as [Actor, Actor, Actor, Actor, Actor]
      const taskId = sha(Buffer.from(prompt))
      const vrfKey = sha(Buffer.from(`vrf ${prompt}`))
      const FEE = 1_700_003n
      const first = createMsg(creator.address, taskId, `${prompt}/a`, FEE, vrfKey, prompt)
      await env.send(creator, [first.msg])
      const nodeActor = (t: Task) => env.actors.find((a) => a.address === t.selectedNode)!
      const salt = (t: Task) => sha(Buffer.from('salt'), t.taskIdCommitment)
      const commit = (t: Task, i: number) =>
        env.send(nodeActor(t), [
          {
            typeUrl: '/beryl.task.v1.MsgSubmitScore',
            value: { node: t.selectedNode, taskIdCommitment: t.taskIdCommitment, scoreCommitment: sha(scores(i), salt(t)) },
          },
        ])
      const t1 = await env.task(first.commitment)
      assert.equal(t1.status, TaskStatus.TASK_STATUS_STARTED)
      await commit(t1, 0)
      const creatorBefore = await env.balance(creator.address)
      await env.send(creator, [
        {
          typeUrl: '/beryl.task.v1.MsgValidateTask',
          value: { creator: creator.address, taskIdCommitments: [first.commitment], taskId, vrfProof: ecvrfProve(vrfKey, t1.samplingSeed) },
        },
      ])
      const root = await env.task(first.commitment)
      assert.equal(root.status, TaskStatus.TASK_STATUS_GROUP_PENDING)
      const seats = await Promise.all(root.validationTasks.map((c) => env.task(c)))
      assert.equal(new Set([t1, ...seats].map((t) => t.selectedNode)).size, 3)
      for (let i = 0; i < 2; i++) await commit(seats[i]!, i + 1)
      const tasks = [t1, ...seats]
      // One after another: the last reveal judges the group, and 'auto' gas simulates each against the state before it.
      const reveals = []
      for (const [i, t] of tasks.entries())
        reveals.push(
          await env.send(nodeActor(t), [
            {
              typeUrl: '/beryl.task.v1.MsgRevealResult',
              value: { node: t.selectedNode, taskIdCommitment: t.taskIdCommitment, score: scores(i), salt: salt(t) },
            },
          ]),
        )
      const after = await Promise.all(tasks.map((t) => env.task(t.taskIdCommitment)))
      const events = reveals.flatMap((r) => r.events)
      return { tasks, after, creator, attester, events, creatorBefore, FEE, nodes: tasks.map((t) => t.selectedNode) }
    }

    it('three honest nodes: every matching run is paid its own fee, the seats when the group is judged, the representative after attestation', async () => {
      const g = await runGroup('a lighthouse at dusk', () => HONEST)
      // Ranked by execution time in block seconds (ties by creation order): the fastest represents the group
      // (which member that is depends on block times, not on which task came first).
      const byRank = g.tasks
        .map((t, i) => ({ i, time: g.after[i]!.scoreReadyTime - g.after[i]!.startTime, seq: t.sequence }))
        .sort((a, b) => (a.time !== b.time ? (a.time < b.time ? -1 : 1) : a.seq < b.seq ? -1 : 1))
      assert.deepEqual(
        byRank.map((x) => g.after[x.i]!.status),
        [TaskStatus.TASK_STATUS_GROUP_VALIDATED, TaskStatus.TASK_STATUS_END_GROUP_REFUND, TaskStatus.TASK_STATUS_END_GROUP_REFUND],
      )
      const rep = g.after[byRank[0]!.i]!
      // Judged in the last reveal: each matching seat paid its own escrowed fee, nothing refunded to the creator.
      const payments = g.events
        .filter((e) => e.type === 'task_payment')
        .map((e) => Object.fromEntries(e.attributes.map((a) => [a.key, a.value])) as Record<string, string>)
      const seats = byRank.slice(1).map((x) => g.after[x.i]!)
      assert.deepEqual(
        payments.map((p) => [p.to, p.amount, p.reason]).sort(),
        seats.map((t) => [`node:${t.selectedNode}`, `${g.FEE}uberyl`, 'task_income']).sort(),
      )
      const before = await Promise.all(g.nodes.map((n) => env.balance(n)))
      await env.send(g.attester, [
        {
          typeUrl: '/beryl.task.v1.MsgAttestResult',
          value: { attester: g.attester.address, taskIdCommitment: rep.taskIdCommitment, resultHash: sha(Buffer.from('result')) },
        },
      ])
      assert.equal((await env.task(rep.taskIdCommitment)).status, TaskStatus.TASK_STATUS_END_GROUP_SUCCESS)
      const gained = await Promise.all(g.nodes.map(async (n, i) => (await env.balance(n)) - before[i]!))
      // The representative's own fee; the seats were paid already.
      const expected = new Array<bigint>(3)
      ;[BigInt(g.FEE), 0n, 0n].forEach((v, k) => (expected[byRank[k]!.i] = v))
      assert.deepEqual(gained, expected)
    })

    it("beryld task list|show and query task/qos/vss show the chain's records", async () => {
      const creator = env.actors[3]!.address
      const list = JSON.parse((await beryld(['task', 'list', '--creator', creator, '--home', node.home, '-o', 'json'])).stdout)
      assert.equal(list.tasks.length, 3)
      assert.ok(list.tasks.every((t: { creator: string }) => t.creator === creator))
      const done = JSON.parse((await beryld(['task', 'list', '--status', 'end_group_success', '--home', node.home, '-o', 'json'])).stdout)
      assert.equal(done.tasks.length, 1)
      assert.match(done.tasks[0].taskIdCommitment, /^[0-9a-f]{64}$/, 'ids in hex, as the CLI takes them')
      const shown = JSON.parse((await beryld(['task', 'show', done.tasks[0].taskIdCommitment, '--home', node.home, '-o', 'json'])).stdout)
      assert.equal(shown.task.status, 'TASK_STATUS_END_GROUP_SUCCESS')
      const qos = JSON.parse((await beryld(['query', 'qos', 'node', done.tasks[0].selectedNode, '--home', node.home, '-o', 'json'])).stdout)
      assert.deepEqual(qos.scores, [10])
      const rate = await beryld(['query', 'vss', 'sampling-rate', '--fee', '10beryl', '--home', node.home, '-o', 'json'])
      assert.equal(rate.code, 0, rate.stderr)
      assert.equal(JSON.parse(rate.stdout).eligibleNodes, '3')
      assert.equal(JSON.parse(rate.stdout).rate, '1', 'the 100% floor of this chain, as a decimal')
      assert.match(rate.stdout, /"attackerSeatProbability": "\d+(\.\d+)?"/)
      const queue = JSON.parse((await beryld(['query', 'task', 'queue', '--home', node.home, '-o', 'json'])).stdout)
      assert.deepEqual(queue.tasks, [])
    })

    it("a cheating node's different score ends EndInvalidated and its stake is slashed", async () => {
      const g = await runGroup('a red bicycle', (i) => (i === 1 ? Buffer.from('f0e1d2c3b4a59687', 'hex') : HONEST))
      assert.equal(g.after[1]!.status, TaskStatus.TASK_STATUS_END_INVALIDATED)
      // Of the two honest members, the faster by block time represents the group (ties by creation order).
      const [fast, slow] = [0, 2].sort((a, b) => {
        const ta = g.after[a]!.scoreReadyTime - g.after[a]!.startTime,
          tb = g.after[b]!.scoreReadyTime - g.after[b]!.startTime
        return ta !== tb ? (ta < tb ? -1 : 1) : g.tasks[a]!.sequence < g.tasks[b]!.sequence ? -1 : 1
      }) as [number, number]
      assert.deepEqual([g.after[fast]!.status, g.after[slow]!.status], [TaskStatus.TASK_STATUS_GROUP_VALIDATED, TaskStatus.TASK_STATUS_END_GROUP_REFUND])
      assert.equal(await env.nodeExists(g.nodes[1]!), false, 'the cheater is no longer a node')
      const slash = g.events.find((e) => e.type === 'node_slashed')
      assert.ok(slash)
      assert.deepEqual(slash.attributes.find((a) => a.key === 'amount')?.value, `${STAKE}uberyl`)
    })
  })

  describe('an unsampled task (no rate floor, a 1-uberyl fee)', () => {
    let node: TestNode
    let env: Awaited<ReturnType<typeof setup>>
    before(async () => {
      node = await startTestNode({
        accounts: 4,
        genesis: (s) => {
          s.task = { params: { min_eligible_nodes: 3 } }
          s.vss = { params: { min_sampling_rate: '0' } }
        },
      })
      env = await setup(node)
      await Promise.all([0, 1, 2].map((i) => env.send(env.actors[i]!, [joinMsg(env.actors[i]!.address)])))
    })
    after(async () => {
      env?.close()
      await node?.cleanup()
    })

    it('Validated → EndSuccess after an attestation; the node is paid', async () => {
      const [, , , creator, attester] = env.actors as [Actor, Actor, Actor, Actor, Actor]
      const taskId = sha(Buffer.from('single'))
      const vrfKey = sha(Buffer.from('single vrf'))
      const { commitment, msg } = createMsg(creator.address, taskId, 'single/a', 1n, vrfKey, 'a quiet harbour')
      await env.send(creator, [msg])
      const t = await env.task(commitment)
      assert.equal(t.status, TaskStatus.TASK_STATUS_STARTED)
      const nodeActor = env.actors.find((a) => a.address === t.selectedNode)!
      const salt = sha(Buffer.from('salt'))
      await env.send(nodeActor, [
        { typeUrl: '/beryl.task.v1.MsgSubmitScore', value: { node: t.selectedNode, taskIdCommitment: commitment, scoreCommitment: sha(HONEST, salt) } },
      ])
      const ready = await env.task(commitment)
      await env.send(creator, [
        {
          typeUrl: '/beryl.task.v1.MsgValidateTask',
          value: { creator: creator.address, taskIdCommitments: [commitment], taskId, vrfProof: ecvrfProve(vrfKey, ready.samplingSeed) },
        },
      ])
      assert.equal((await env.task(commitment)).status, TaskStatus.TASK_STATUS_VALIDATED)
      const before = await env.balance(t.selectedNode)
      await env.send(attester, [
        {
          typeUrl: '/beryl.task.v1.MsgAttestResult',
          value: { attester: attester.address, taskIdCommitment: commitment, resultHash: sha(Buffer.from('r')), score: HONEST, salt },
        },
      ])
      assert.equal((await env.task(commitment)).status, TaskStatus.TASK_STATUS_END_SUCCESS)
      assert.equal(await env.balance(t.selectedNode), before + 1n)
    })
  })
})
