import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { QueryBalanceRequest, QueryBalanceResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query'
import type { BerylApp } from '../../../chain/app.ts'
import { moduleAddress } from '../../../modules/auth/index.ts'
import { ecvrfProve, ecvrfPublicKey } from '../../../modules/vss/ecvrf.ts'
import { QueryNodeRequest } from '../../../proto/gen/beryl/staking/v1/query.ts'
import { QueryNodeQosRequest, QueryNodeQosResponse } from '../../../proto/gen/beryl/qos/v1/query.ts'
import { QueryTaskRequest, QueryTaskResponse } from '../../../proto/gen/beryl/task/v1/query.ts'
import { AbortReason, TaskStatus, TaskType, type Task } from '../../../proto/gen/beryl/task/v1/types.ts'
import { blockRequest, initChain, openApp, wallets, type Wallet } from '../chain/fixtures.ts'

const MODEL = 'ab'.repeat(32)
const T0 = 1_700_000_000n
const STAKE = 400_000_000n
const VRF_SK = createHash('sha256').update('creator vrf key').digest()
const VRF_PK = ecvrfPublicKey(VRF_SK)
const HONEST = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])
const CHEAT = HONEST.map((b) => b ^ 0xff)
const sha = (...p: Uint8Array[]) => { const h = createHash('sha256'); for (const x of p) h.update(x); return h.digest() }

/** A chain with six GPU nodes, a creator and an attester; `taskParams` goes into the task genesis. */
function chain(taskParams: Record<string, string>) {
  const env = {} as {
    app: BerylApp; close: () => Promise<void>; w: Wallet[]; nodes: Wallet[]; creator: Wallet; attester: Wallet
    height: bigint; now: bigint; seq: Map<string, number>
  }
  beforeEach(async () => {
    env.w = await wallets(8)
    env.nodes = env.w.slice(0, 6); env.creator = env.w[6]!; env.attester = env.w[7]!
    ;({ app: env.app, close: env.close } = await openApp())
    await initChain(env.app, env.w.map((x) => x.address), { task: { params: { ...taskParams, attesters: [env.attester.address] } } })
    env.height = 0n; env.now = T0; env.seq = new Map()
    await run([])
    const r = await run(env.nodes.map((n) => [n, { typeUrl: '/beryl.staking.v1.MsgJoin', value: { address: n.address, gpuName: 'RTX', gpuVramGb: 24, runnerVersion: '1.0.0', modelIds: [MODEL], stake: STAKE.toString() } }]))
    assert.ok(r.every((x) => x.code === 0))
  })
  afterEach(async () => { await env.close() })

  async function run(txs: Array<[Wallet, unknown]>, t?: bigint) {
    env.now = t ?? env.now + 1n
    const signed: Uint8Array[] = []
    for (const [who, m] of txs) {
      const s = env.seq.get(who.address) ?? 0
      signed.push(await who.sign([m], s, { gas: '3000000', fee: '100000' }))
      env.seq.set(who.address, s + 1)
    }
    const res = await env.app.finalizeBlock(blockRequest(++env.height, signed, { timeSeconds: env.now }))
    await env.app.commit()
    return res.txResults!
  }
  const query = async (path: string, data: Uint8Array) => env.app.query({ path, data, height: 0n, prove: false })
  const task = async (c: Uint8Array): Promise<Task> => QueryTaskResponse.decode((await query('/beryl.task.v1.Query/Task', QueryTaskRequest.encode({ taskIdCommitment: c }).finish())).value!).task!
  const balance = async (address: string) => BigInt(QueryBalanceResponse.decode((await query('/cosmos.bank.v1beta1.Query/Balance', QueryBalanceRequest.encode({ address, denom: 'uberyl' }).finish())).value!).balance!.amount)
  const nodeExists = async (address: string) => (await query('/beryl.staking.v1.Query/Node', QueryNodeRequest.encode({ address }).finish())).code === 0
  const createMsg = (taskId: Uint8Array, nonceTag: string, fee: bigint, args = JSON.stringify({ prompt: 'a lighthouse' })) => {
    const nonce = sha(Buffer.from(nonceTag))
    const commitment = sha(taskId, nonce)
    return {
      commitment,
      msg: {
        typeUrl: '/beryl.task.v1.MsgCreateTask',
        value: {
          creator: env.creator.address, taskIdCommitment: commitment, nonce, taskType: TaskType.TASK_TYPE_IMAGE, args, modelIds: [MODEL],
          minVramGb: 8, requiredGpu: '', requiredGpuVramGb: 0, taskVersion: '1.0.0', fee: fee.toString(), vrfPublicKey: VRF_PK,
        },
      },
    }
  }
  const nodeOf = (t: Task) => env.nodes.find((n) => n.address === t.selectedNode)!
  const score = (t: Task, s: Uint8Array) => [nodeOf(t), { typeUrl: '/beryl.task.v1.MsgSubmitScore', value: { node: t.selectedNode, taskIdCommitment: t.taskIdCommitment, score: s } }] as [Wallet, unknown]
  const validateMsg = async (commitments: Uint8Array[], taskId: Uint8Array) => {
    const first = await task(commitments[0]!)
    return [env.creator, { typeUrl: '/beryl.task.v1.MsgValidateTask', value: { creator: env.creator.address, taskIdCommitments: commitments, taskId, vrfProof: ecvrfProve(VRF_SK, first.samplingSeed) } }] as [Wallet, unknown]
  }
  const attest = (c: Uint8Array) => [env.attester, { typeUrl: '/beryl.task.v1.MsgAttestResult', value: { attester: env.attester.address, taskIdCommitment: c, resultHash: new Uint8Array(32).fill(9) } }] as [Wallet, unknown]
  return { env, run, task, balance, nodeExists, createMsg, nodeOf, score, validateMsg, attest }
}

describe('task flow: scores, validation, attestation, settlement (consensus, real LevelDB)', function () {
  this.timeout(120_000)

  describe('a task the VRF does not select (1-uberyl fee, no rate floor)', () => {
    const c = chain({ min_sampling_rate: '0' })
    const taskId = sha(Buffer.from('task one'))

    it('Started → ScoreReady → Validated → attested → EndSuccess; the node is paid the fee', async () => {
      const { commitment, msg } = c.createMsg(taskId, 'n1', 1n)
      await c.run([[c.env.creator, msg]])
      const started = await c.task(commitment)
      assert.equal(started.status, TaskStatus.TASK_STATUS_STARTED)
      const node = c.nodeOf(started)
      const [s] = await c.run([c.score(started, HONEST)])
      assert.equal(s!.code, 0, s!.log)
      assert.equal((await c.task(commitment)).status, TaskStatus.TASK_STATUS_SCORE_READY)
      const [v] = await c.run([await c.validateMsg([commitment], taskId)])
      assert.equal(v!.code, 0, v!.log)
      assert.equal((await c.task(commitment)).status, TaskStatus.TASK_STATUS_VALIDATED)
      const before = await c.balance(node.address)
      const [a] = await c.run([c.attest(commitment)])
      assert.equal(a!.code, 0, a!.log)
      assert.equal((await c.task(commitment)).status, TaskStatus.TASK_STATUS_END_SUCCESS)
      assert.equal(await c.balance(node.address), before + 1n)
      assert.equal(await c.balance(moduleAddress('task')), 0n)
    })

    it('an error report validated alone ends EndAborted(ErrorReported) with a refund', async () => {
      const { commitment, msg } = c.createMsg(taskId, 'n2', 1n)
      await c.run([[c.env.creator, msg]])
      const t = await c.task(commitment)
      await c.run([[c.nodeOf(t), { typeUrl: '/beryl.task.v1.MsgReportError', value: { node: t.selectedNode, taskIdCommitment: commitment, error: 1 } }]])
      assert.equal((await c.task(commitment)).status, TaskStatus.TASK_STATUS_ERROR_REPORTED)
      const before = await c.balance(c.env.creator.address)
      await c.run([await c.validateMsg([commitment], taskId)])
      const ended = await c.task(commitment)
      assert.deepEqual([ended.status, ended.abortReason], [TaskStatus.TASK_STATUS_END_ABORTED, AbortReason.ABORT_REASON_ERROR_REPORTED])
      assert.equal(await c.balance(c.env.creator.address), before + 1n - 100_000n)
    })

    it('wrong proofs, wrong task ids, other senders and bad scores are refused with their codes', async () => {
      const { commitment, msg } = c.createMsg(taskId, 'n3', 1n)
      await c.run([[c.env.creator, msg]])
      const t = await c.task(commitment)
      const other = c.env.nodes.find((n) => n.address !== t.selectedNode)!
      const [notMine] = await c.run([[other, { typeUrl: '/beryl.task.v1.MsgSubmitScore', value: { node: other.address, taskIdCommitment: commitment, score: HONEST } }]])
      assert.deepEqual([notMine!.codespace, notMine!.code], ['task', 9])
      const [zero] = await c.run([c.score(t, new Uint8Array(8))])
      assert.deepEqual([zero!.codespace, zero!.code], ['task', 10])
      const [wrongLen] = await c.run([c.score(t, new Uint8Array(7).fill(1))])
      assert.deepEqual([wrongLen!.codespace, wrongLen!.code], ['task', 10])
      await c.run([c.score(t, HONEST)])
      const [wrongId] = await c.run([await c.validateMsg([commitment], sha(Buffer.from('not the id')))])
      assert.match(wrongId!.log!, /does not match task/)
      const bad = await c.validateMsg([commitment], taskId)
      ;(bad[1] as { value: { vrfProof: Uint8Array } }).value.vrfProof[40] ^= 1
      const [badProof] = await c.run([bad])
      assert.deepEqual([badProof!.codespace, badProof!.code], ['task', 11])
      assert.match(badProof!.log!, /VRF proof does not verify/)
    })

    it('creator validation timeout at its boundary: still open at the deadline, then the node is paid', async () => {
      const { commitment, msg } = c.createMsg(taskId, 'n4', 1n)
      await c.run([[c.env.creator, msg]])
      const t = await c.task(commitment)
      await c.run([c.score(t, HONEST)])
      const ready = await c.task(commitment)
      assert.equal(ready.deadline, ready.scoreReadyTime + 600n)
      const node = c.nodeOf(t)
      const before = await c.balance(node.address)
      await c.run([], ready.deadline - 1n)
      await c.run([], ready.deadline)
      assert.equal((await c.task(commitment)).status, TaskStatus.TASK_STATUS_SCORE_READY)
      await c.run([], ready.deadline + 1n)
      const ended = await c.task(commitment)
      assert.deepEqual([ended.status, ended.abortReason], [TaskStatus.TASK_STATUS_END_ABORTED, AbortReason.ABORT_REASON_CREATOR_VALIDATION_TIMEOUT])
      assert.equal(await c.balance(node.address), before + 1n, 'the node is paid for its work')
    })

    it('result upload timeout at its boundary: refund to the creator', async () => {
      const { commitment, msg } = c.createMsg(taskId, 'n5', 1n)
      await c.run([[c.env.creator, msg]])
      await c.run([c.score(await c.task(commitment), HONEST)])
      await c.run([await c.validateMsg([commitment], taskId)])
      const v = await c.task(commitment)
      assert.equal(v.deadline, v.validatedTime + 600n)
      const before = await c.balance(c.env.creator.address)
      await c.run([], v.deadline)
      assert.equal((await c.task(commitment)).status, TaskStatus.TASK_STATUS_VALIDATED)
      await c.run([], v.deadline + 1n)
      const ended = await c.task(commitment)
      assert.deepEqual([ended.status, ended.abortReason], [TaskStatus.TASK_STATUS_END_ABORTED, AbortReason.ABORT_REASON_RESULT_UPLOAD_TIMEOUT])
      assert.equal(await c.balance(c.env.creator.address), before + 1n)
    })
  })

  describe('a sampled task (rate floor 100%): the validation group of three', () => {
    const c = chain({ min_sampling_rate: '1000000000000000000' })
    const taskId = sha(Buffer.from('group task'))
    const FEE = 1_700_003n

    async function group() {
      const members = ['g1', 'g2', 'g3'].map((n) => c.createMsg(taskId, n, FEE))
      await c.run(members.map((m) => [c.env.creator, m.msg] as [Wallet, unknown]))
      const tasks = await Promise.all(members.map((m) => c.task(m.commitment)))
      assert.equal(new Set(tasks.map((t) => t.selectedNode)).size, 3, 'three different nodes')
      return { commitments: members.map((m) => m.commitment), tasks }
    }

    it('validating a selected task alone is refused', async () => {
      const { commitments, tasks } = await group()
      await c.run([c.score(tasks[0]!, HONEST)])
      const [r] = await c.run([await c.validateMsg([commitments[0]!], taskId)])
      assert.match(r!.log!, /selected this task for cross-validation/)
    })

    it('three matching scores: EndGroupSuccess, the representative\'s fee split 10:5:2 by speed, the others refunded', async () => {
      const { commitments, tasks } = await group()
      for (const t of tasks) await c.run([c.score(t, HONEST)]) // one block each: t0 fastest, t2 slowest
      const nodes = tasks.map((t) => c.nodeOf(t).address)
      const creatorBefore = await c.balance(c.env.creator.address)
      const [v] = await c.run([await c.validateMsg(commitments, taskId)])
      assert.equal(v!.code, 0, v!.log)
      const after = await Promise.all(commitments.map((x) => c.task(x)))
      assert.deepEqual(after.map((t) => t.status), [TaskStatus.TASK_STATUS_GROUP_VALIDATED, TaskStatus.TASK_STATUS_END_GROUP_REFUND, TaskStatus.TASK_STATUS_END_GROUP_REFUND])
      assert.equal(await c.balance(c.env.creator.address), creatorBefore + 2n * FEE - 100_000n, 'two fees refunded')
      const before = await Promise.all(nodes.map((n) => c.balance(n)))
      const [a] = await c.run([c.attest(commitments[0]!)])
      assert.equal(a!.code, 0, a!.log)
      assert.equal((await c.task(commitments[0]!)).status, TaskStatus.TASK_STATUS_END_GROUP_SUCCESS)
      const gained = await Promise.all(nodes.map(async (n, i) => (await c.balance(n)) - before[i]!))
      // 1 700 003 × 10/17 = 1 000 001, × 5/17 = 500 000, the remainder 200 002 to the last.
      assert.deepEqual(gained, [1_000_001n, 500_000n, 200_002n])
      assert.equal(await c.balance(moduleAddress('task')), 0n)
      // The speed ranks went into the nodes' QoS records.
      const scores = await Promise.all(nodes.map(async (n) => {
        const r = await c.env.app.query({ path: '/beryl.qos.v1.Query/NodeQos', data: QueryNodeQosRequest.encode({ node: n }).finish(), height: 0n, prove: false })
        return QueryNodeQosResponse.decode(r.value!).qos!.scores
      }))
      assert.deepEqual(scores, [[10], [5], [2]])
    })

    it('a cheating node\'s different score ends EndInvalidated: its fee refunded, its stake slashed', async () => {
      const { commitments, tasks } = await group()
      await c.run([c.score(tasks[0]!, HONEST)])
      await c.run([c.score(tasks[1]!, CHEAT)])
      await c.run([c.score(tasks[2]!, HONEST)])
      const cheater = c.nodeOf(tasks[1]!).address
      const poolBefore = await c.balance(moduleAddress('community_pool'))
      const [v] = await c.run([await c.validateMsg(commitments, taskId)])
      assert.equal(v!.code, 0, v!.log)
      const after = await Promise.all(commitments.map((x) => c.task(x)))
      assert.deepEqual(after.map((t) => t.status), [TaskStatus.TASK_STATUS_GROUP_VALIDATED, TaskStatus.TASK_STATUS_END_INVALIDATED, TaskStatus.TASK_STATUS_END_GROUP_REFUND])
      assert.equal(await c.nodeExists(cheater), false, 'the cheater is removed')
      assert.equal(await c.balance(moduleAddress('community_pool')), poolBefore + STAKE, '100% of its stake')
      assert.ok(v!.events!.some((e) => e.type === 'node_slashed' && e.attributes.some((x) => x.key === 'node' && x.value === cheater)))
      const honest = [c.nodeOf(tasks[0]!).address, c.nodeOf(tasks[2]!).address]
      const before = await Promise.all(honest.map((n) => c.balance(n)))
      await c.run([c.attest(commitments[0]!)])
      const gained = await Promise.all(honest.map(async (n, i) => (await c.balance(n)) - before[i]!))
      // The matching members keep their speed ranks 10 and 2: 1 700 003 × 10/12 = 1 416 669, remainder 283 334.
      assert.deepEqual(gained, [1_416_669n, 283_334n])
      assert.equal(await c.balance(moduleAddress('task')), 0n)
    })
  })
})
