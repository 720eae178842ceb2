import assert from 'node:assert/strict'
import { moduleAddress } from '../../../modules/auth/index.ts'
import { QueryNodeQosRequest, QueryNodeQosResponse } from '../../../proto/gen/beryl/qos/v1/query.ts'
import { QueryNodeRequest, QueryNodeResponse } from '../../../proto/gen/beryl/staking/v1/query.ts'
import { NodeStatus } from '../../../proto/gen/beryl/staking/v1/types.ts'
import { AbortReason, TaskStatus } from '../../../proto/gen/beryl/task/v1/types.ts'
import type { Wallet } from '../../helpers/chain.ts'
import { CHEAT, HONEST, STAKE, chain, sha } from './chain.ts'

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
      const [notMine] = await c.run([
        [other, { typeUrl: '/beryl.task.v1.MsgSubmitScore', value: { node: other.address, taskIdCommitment: commitment, score: HONEST } }],
      ])
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

    it("three matching scores: EndGroupSuccess, the representative's fee split 10:5:2 by speed, the others refunded", async () => {
      const { commitments, tasks } = await group()
      for (const t of tasks) await c.run([c.score(t, HONEST)]) // one block each: t0 fastest, t2 slowest
      const nodes = tasks.map((t) => c.nodeOf(t).address)
      const creatorBefore = await c.balance(c.env.creator.address)
      const [v] = await c.run([await c.validateMsg(commitments, taskId)])
      assert.equal(v!.code, 0, v!.log)
      const after = await Promise.all(commitments.map((x) => c.task(x)))
      assert.deepEqual(
        after.map((t) => t.status),
        [TaskStatus.TASK_STATUS_GROUP_VALIDATED, TaskStatus.TASK_STATUS_END_GROUP_REFUND, TaskStatus.TASK_STATUS_END_GROUP_REFUND],
      )
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
      const scores = await Promise.all(
        nodes.map(async (n) => {
          const r = await c.env.app.query({
            path: '/beryl.qos.v1.Query/NodeQos',
            data: QueryNodeQosRequest.encode({ node: n }).finish(),
            height: 0n,
            prove: false,
          })
          return QueryNodeQosResponse.decode(r.value!).qos!.scores
        }),
      )
      assert.deepEqual(scores, [[10], [5], [2]])
    })

    it("simulation runs at the last block's time: a group validation simulated uses the gas it then uses in the block", async () => {
      const { commitments, tasks } = await group()
      for (const t of tasks) await c.run([c.score(t, HONEST)])
      // Health recovers with time since each node's last event: at time 0 the QoS arithmetic differs.
      await c.run([], c.env.now + 301n)
      const [who, msg] = await c.validateMsg(commitments, taskId)
      const seq = c.env.blocks.sequence(who.address)
      const sim = await c.env.app.simulate(await who.sign([msg], seq, { gas: '3000000', fee: '100000' }))
      assert.equal(sim.code, 0, sim.log)
      const [v] = await c.run([[who, msg]], c.env.now)
      assert.equal(v!.code, 0, v!.log)
      assert.equal(sim.gasUsed, v!.gasUsed, 'same state, same block time: same gas')
    })

    it("a cheating node's different score ends EndInvalidated: its fee refunded, its stake slashed", async () => {
      const { commitments, tasks } = await group()
      await c.run([c.score(tasks[0]!, HONEST)])
      await c.run([c.score(tasks[1]!, CHEAT)])
      await c.run([c.score(tasks[2]!, HONEST)])
      const cheater = c.nodeOf(tasks[1]!).address
      const poolBefore = await c.balance(moduleAddress('community_pool'))
      const [v] = await c.run([await c.validateMsg(commitments, taskId)])
      assert.equal(v!.code, 0, v!.log)
      const after = await Promise.all(commitments.map((x) => c.task(x)))
      assert.deepEqual(
        after.map((t) => t.status),
        [TaskStatus.TASK_STATUS_GROUP_VALIDATED, TaskStatus.TASK_STATUS_END_INVALIDATED, TaskStatus.TASK_STATUS_END_GROUP_REFUND],
      )
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

  describe('a node is busy (unsampled chain)', () => {
    const c = chain({ min_sampling_rate: '0' })
    const taskId = sha(Buffer.from('busy'))
    const status = async (who: Wallet) =>
      QueryNodeResponse.decode((await c.query('/beryl.staking.v1.Query/Node', QueryNodeRequest.encode({ address: who.address }).finish())).value!).node!.status

    it('pause while busy: PendingPause, then Paused when its score ends the execution', async () => {
      const { commitment, msg } = c.createMsg(taskId, 'p1', 1n)
      await c.run([[c.env.creator, msg]])
      const t = await c.task(commitment)
      const node = c.nodeOf(t)
      await c.run([[node, { typeUrl: '/beryl.staking.v1.MsgPause', value: { address: node.address } }]])
      assert.equal(await status(node), NodeStatus.NODE_STATUS_PENDING_PAUSE)
      await c.run([c.score(t, HONEST)])
      assert.equal(await status(node), NodeStatus.NODE_STATUS_PAUSED)
    })

    it('quit while busy: PendingQuit, then Unbonding when the task leaves the node', async () => {
      const { commitment, msg } = c.createMsg(taskId, 'q1', 1n)
      await c.run([[c.env.creator, msg]])
      const t = await c.task(commitment)
      const node = c.nodeOf(t)
      await c.run([[node, { typeUrl: '/beryl.staking.v1.MsgQuit', value: { address: node.address } }]])
      assert.equal(await status(node), NodeStatus.NODE_STATUS_PENDING_QUIT)
      await c.run([c.score(t, HONEST)])
      assert.equal(await status(node), NodeStatus.NODE_STATUS_UNBONDING)
    })
  })

  describe('slashing with three nodes (every task sampled)', () => {
    const c = chain({ min_sampling_rate: '1000000000000000000' }, 3)

    it("the cheater's other running task ends EndAborted(NodeSlashed), refunded; the evidence holds every score", async () => {
      const idA = sha(Buffer.from('group A')),
        idB = sha(Buffer.from('group B'))
      const groupA = ['a1', 'a2', 'a3'].map((n) => c.createMsg(idA, n, 1_000_000n, JSON.stringify({ prompt: 'A' })))
      await c.run(groupA.map((g) => [c.env.creator, g.msg] as [Wallet, unknown]))
      const tasksA = await Promise.all(groupA.map((g) => c.task(g.commitment)))
      for (let i = 0; i < 3; i++) await c.run([c.score(tasksA[i]!, i === 1 ? CHEAT : HONEST)])
      // All three nodes are free again: a second group takes one task on each.
      const groupB = ['b1', 'b2', 'b3'].map((n) => c.createMsg(idB, n, 1_000_000n, JSON.stringify({ prompt: 'B' })))
      await c.run(groupB.map((g) => [c.env.creator, g.msg] as [Wallet, unknown]))
      const tasksB = await Promise.all(groupB.map((g) => c.task(g.commitment)))
      const cheater = tasksA[1]!.selectedNode
      const running = tasksB.find((t) => t.selectedNode === cheater)!
      assert.equal(running.status, TaskStatus.TASK_STATUS_STARTED)
      const before = await c.balance(c.env.creator.address)
      const [v] = await c.run([
        await c.validateMsg(
          groupA.map((g) => g.commitment),
          idA,
        ),
      ])
      assert.equal(v!.code, 0, v!.log)
      const aborted = await c.task(running.taskIdCommitment)
      assert.deepEqual([aborted.status, aborted.abortReason], [TaskStatus.TASK_STATUS_END_ABORTED, AbortReason.ABORT_REASON_NODE_SLASHED])
      assert.equal(
        await c.balance(c.env.creator.address),
        before - 100_000n + 3n * 1_000_000n /* group A: the invalidated and the refund member; group B: the aborted task */,
      )
      const slash = v!.events!.find((e) => e.type === 'node_slashed')!
      const attr = (k: string) => slash.attributes.find((a) => a.key === k)?.value
      assert.equal(attr('node'), cheater)
      assert.equal(attr('group_scores')!.split(',').length, 3)
      assert.ok(attr('group_scores')!.includes(Buffer.from(CHEAT).toString('hex')))
      assert.ok(attr('group_scores')!.includes(Buffer.from(HONEST).toString('hex')))
    })
  })
})
