// Collateral per open risk (docs/decisions/0024): a node is given a new first task only while its stake ≥
// (unjudged answers + 1) × min_stake. A first task's answer is unjudged from its commitment until its sampling
// is decided not to select it or its validation group has judged it (ScoreReady, GroupPending). Without the
// rule a lazy node held many unjudged fakes on one stake: the first conviction took the stake, every other
// group ended NodeSlashed with refunds. Seats are drawn from every serving node whatever it holds (a seat is
// not a fee an attacker wins alone; collateral.ts). One `it` per rule, named after it.
import assert from 'node:assert/strict'
import { toBech32 } from '@cosmjs/encoding'
import { MemoryStore } from '../../../chain/store/memory.ts'
import { decodeBech32 } from '../../../chain/tx/crypto.ts'
import { moduleAddress } from '../../../modules/auth/index.ts'
import { berylModules } from '../../../modules/index.ts'
import { QueryNodeRequest, QueryNodeResponse } from '../../../proto/gen/beryl/staking/v1/query.ts'
import { NodeStatus } from '../../../proto/gen/beryl/staking/v1/types.ts'
import { QueryTaskRequest, QueryTaskResponse } from '../../../proto/gen/beryl/task/v1/query.ts'
import { AbortReason, type Task, TaskStatus } from '../../../proto/gen/beryl/task/v1/types.ts'
import { blockRequest, openApp, type Wallet } from '../../helpers/chain.ts'
import { CHEAT, HONEST, STAKE, T0, chain, sha } from './chain.ts'
import { deliverContext } from '../../helpers/context.ts'

const ALWAYS = '1000000000000000000'
const FEE = 1_700_003n
const { keepers } = berylModules()

function collateral(c: ReturnType<typeof chain>) {
  /** The node's count of unjudged answers, as the dispatch rule reads it. */
  const unjudged = (address: string, app = c.env.app) => keepers.task.unjudgedAnswers(app.queryContext(), decodeBech32(address).data)
  const nodeStatus = async (address: string) =>
    QueryNodeResponse.decode((await c.query('/beryl.staking.v1.Query/Node', QueryNodeRequest.encode({ address }).finish())).value!).node!.status
  /** A new first task, created in its own block; returns it as it is after that block's dispatch. */
  const create = async (tag: string) => {
    const taskId = sha(Buffer.from(tag))
    const m = c.createMsg(taskId, tag, FEE, JSON.stringify({ prompt: tag }))
    const [r] = await c.run([[c.env.creator, m.msg]])
    assert.equal(r!.code, 0, r!.log)
    return { taskId, commitment: m.commitment, task: await c.task(m.commitment) }
  }
  const addStake = (n: Wallet, amount = STAKE) =>
    [n, { typeUrl: '/beryl.staking.v1.MsgAddStake', value: { address: n.address, amount: amount.toString() } }] as [Wallet, unknown]
  const wallet = (address: string) => c.env.nodes.find((n) => n.address === address)!
  const counts = () => Promise.all(c.env.nodes.map((n) => unjudged(n.address)))
  return { unjudged, nodeStatus, create, addStake, wallet, counts }
}

describe('collateral per open risk: a stake backs one unjudged answer per min_stake (consensus, real LevelDB)', function () {
  this.timeout(180_000)

  describe('three nodes at min_stake, every task sampled', () => {
    const c = chain({ min_sampling_rate: ALWAYS }, 3)
    const k = collateral(c)

    it('a lazy node cannot hold more unjudged answers than its stake backs: after its commitment it gets no new first task', async () => {
      const a = await k.create('a')
      const lazy = a.task.selectedNode
      await c.run([c.score(a.task, CHEAT)]) // the fake is committed at once: the node is Available again
      assert.equal(await k.nodeStatus(lazy), NodeStatus.NODE_STATUS_AVAILABLE)
      assert.equal(await k.unjudged(lazy), 1n)
      // Two more tasks: both go to the other two nodes, never to the one whose fake awaits its sampling.
      const b = await k.create('b')
      const d = await k.create('d')
      assert.ok(b.task.selectedNode && d.task.selectedNode)
      assert.equal(new Set([lazy, b.task.selectedNode, d.task.selectedNode]).size, 3, 'each task on another node')
      await c.run([c.score(b.task, HONEST), c.score(d.task, HONEST)])
      assert.deepEqual(await k.counts(), [1n, 1n, 1n])
      // Every node is Available, none is backed for a second answer: the next task waits in the queue.
      const e = await k.create('e')
      for (const n of c.env.nodes) assert.equal(await k.nodeStatus(n.address), NodeStatus.NODE_STATUS_AVAILABLE)
      assert.equal(e.task.status, TaskStatus.TASK_STATUS_QUEUED)
      // The fake is selected: its group's seats go to the two other nodes, whatever they hold (a seat is drawn
      // from every serving node), and the queued first task still waits.
      const [v] = await c.run([await c.validateMsg([a.commitment], a.taskId)])
      assert.equal(v!.code, 0, v!.log)
      const root = await c.task(a.commitment)
      assert.equal(root.status, TaskStatus.TASK_STATUS_GROUP_PENDING)
      for (const s of root.validationTasks) assert.equal((await c.task(s)).status, TaskStatus.TASK_STATUS_STARTED)
      assert.equal((await c.task(e.commitment)).status, TaskStatus.TASK_STATUS_QUEUED)
      assert.equal(await k.unjudged(lazy), 1n, 'a pending group keeps the answer unjudged')
    })

    it('a node with twice min_stake holds two unjudged answers, and no third', async () => {
      await c.run(c.env.nodes.map((n) => k.addStake(n)))
      // Two nodes run a task each (Busy); the third commits an answer and is the only Available node.
      const b = await k.create('b')
      const d = await k.create('d')
      const a = await k.create('a')
      const held = a.task.selectedNode
      assert.ok(![b.task.selectedNode, d.task.selectedNode].includes(held))
      await c.run([c.score(a.task, CHEAT)])
      const second = await k.create('second')
      assert.equal(second.task.selectedNode, held, 'with 2 × min_stake the node takes a second task while its first answer is unjudged')
      await c.run([c.score(second.task, CHEAT)])
      assert.equal(await k.unjudged(held), 2n)
      await c.run([c.score(b.task, HONEST), c.score(d.task, HONEST)])
      // The two others hold one answer each and are backed for one more; the node with two is not.
      for (const tag of ['e', 'f']) assert.notEqual((await k.create(tag)).task.selectedNode, held)
      const g = await k.create('g')
      assert.equal(g.task.status, TaskStatus.TASK_STATUS_QUEUED, 'every node is at its limit')
    })

    it('counter returns to zero on abort: a group whose seat cannot be filled ends SeatUnfilled, and every member is free again', async () => {
      const a = await k.create('a')
      await c.run([c.score(a.task, CHEAT)])
      await c.run([await c.validateMsg([a.commitment], a.taskId)])
      const root = await c.task(a.commitment)
      const seats = await Promise.all(root.validationTasks.map((s) => c.task(s)))
      assert.ok(seats.every((s) => s.status === TaskStatus.TASK_STATUS_STARTED))
      await c.run([c.score(seats[1]!, HONEST)])
      assert.deepEqual(
        (await k.counts()).reduce((x, y) => x + y),
        1n,
        'T1 (a seat is not counted)',
      )
      await c.run([], seats[0]!.deadline + 1n) // seat 0 times out; its replacement can go to no node outside the group
      const replacement = (await c.task(a.commitment)).validationTasks.find((x) => Buffer.compare(x, seats[1]!.taskIdCommitment) !== 0)!
      await c.run([], (await c.task(replacement)).deadline + 1n)
      const ended = await c.task(a.commitment)
      assert.deepEqual([ended.status, ended.abortReason], [TaskStatus.TASK_STATUS_END_ABORTED, AbortReason.ABORT_REASON_SEAT_UNFILLED])
      assert.deepEqual(await k.counts(), [0n, 0n, 0n])
    })

    it('counter returns to zero on timeout: a creator that never validates (the node is paid) frees the node', async () => {
      const a = await k.create('a')
      await c.run([c.score(a.task, HONEST)])
      assert.equal(await k.unjudged(a.task.selectedNode), 1n)
      const t = await c.task(a.commitment)
      await c.run([], t.deadline + 1n)
      const ended = await c.task(a.commitment)
      assert.deepEqual([ended.status, ended.abortReason], [TaskStatus.TASK_STATUS_END_ABORTED, AbortReason.ABORT_REASON_CREATOR_VALIDATION_TIMEOUT])
      assert.deepEqual(await k.counts(), [0n, 0n, 0n])
    })

    it('counter is untouched by a cancel: a queued task holds no answer', async () => {
      const a = await k.create('a')
      await c.run([c.score(a.task, HONEST)])
      const b = await k.create('b')
      const d = await k.create('d')
      await c.run([c.score(b.task, HONEST), c.score(d.task, HONEST)])
      const e = await k.create('e')
      assert.equal(e.task.status, TaskStatus.TASK_STATUS_QUEUED)
      const before = await k.counts()
      const [r] = await c.run([
        [c.env.creator, { typeUrl: '/beryl.task.v1.MsgCancelTask', value: { creator: c.env.creator.address, taskIdCommitment: e.commitment } }],
      ])
      assert.equal(r!.code, 0, r!.log)
      assert.equal((await c.task(e.commitment)).status, TaskStatus.TASK_STATUS_END_ABORTED)
      assert.deepEqual(await k.counts(), before)
    })
  })

  describe('six nodes at min_stake, every task sampled', () => {
    const c = chain({ min_sampling_rate: ALWAYS })
    const k = collateral(c)

    it('counter returns to zero on judgement: three matching reveals free all three members', async () => {
      const { members } = await c.runGroup('g', () => HONEST)
      assert.equal((await c.task(members[0]!.taskIdCommitment)).status, TaskStatus.TASK_STATUS_GROUP_VALIDATED)
      assert.deepEqual(await k.counts(), [0n, 0n, 0n, 0n, 0n, 0n])
    })

    it("counter returns to zero on a slash: the convicted node's other unjudged answer ends NodeSlashed, and its count with it", async () => {
      const poolBefore = await c.balance(moduleAddress('community_pool'))
      const a = await k.create('a')
      const faker = a.task.selectedNode
      // With 2 × min_stake the faker may hold a second unjudged answer when its first group convicts it.
      await c.run([k.addStake(k.wallet(faker))])
      await c.run([c.score(a.task, CHEAT)])
      const [v] = await c.run([await c.validateMsg([a.commitment], a.taskId)])
      assert.equal(v!.code, 0, v!.log)
      const root = await c.task(a.commitment)
      // The seats run on two other nodes; new tasks fill the rest (left running) until the faker gets one.
      let second: Task | undefined
      for (let i = 0; i < 4 && !second; i++) {
        const t = await k.create(`x${i}`)
        if (t.task.selectedNode === faker) second = t.task
      }
      assert.ok(second, 'the faker, backed for a second answer, is given another task')
      await c.run([c.score(second, CHEAT)])
      assert.equal(await k.unjudged(faker), 2n)
      for (const s of root.validationTasks) await c.run([c.score(await c.task(s), HONEST)])
      const members = [root, ...(await Promise.all(root.validationTasks.map((s) => c.task(s))))]
      await c.run(members.map((t) => c.reveal(t)))
      assert.equal((await c.task(a.commitment)).status, TaskStatus.TASK_STATUS_END_INVALIDATED)
      assert.equal(await c.nodeExists(faker), false)
      const other = await c.task(second.taskIdCommitment)
      assert.deepEqual([other.status, other.abortReason], [TaskStatus.TASK_STATUS_END_ABORTED, AbortReason.ABORT_REASON_NODE_SLASHED])
      assert.deepEqual(await k.counts(), [0n, 0n, 0n, 0n, 0n, 0n])
      assert.equal(await c.balance(moduleAddress('community_pool')), poolBefore + 2n * STAKE, 'the conviction took the stake that backed both answers')
    })
  })

  describe('three nodes at min_stake, a low sampling rate', () => {
    const c = chain({}, 3)
    const k = collateral(c)

    it('dispatch skips a node at its limit and uses it again once its answer is judged (not selected)', async () => {
      const a = await k.create('a')
      const held = a.task.selectedNode
      await c.run([c.score(a.task, HONEST)])
      // The two other nodes take the next two tasks and keep running them (Busy).
      const b = await k.create('b')
      const d = await k.create('d')
      assert.ok([b, d].every((x) => x.task.status === TaskStatus.TASK_STATUS_STARTED && x.task.selectedNode !== held))
      const e = await k.create('e')
      assert.equal(e.task.status, TaskStatus.TASK_STATUS_QUEUED, 'the only Available node holds an unjudged answer')
      // The creator validates; the VRF does not select the task: judged, the node is given the queued task in that block.
      const [v] = await c.run([await c.validateMsg([a.commitment], a.taskId)])
      assert.equal(v!.code, 0, v!.log)
      assert.equal((await c.task(a.commitment)).status, TaskStatus.TASK_STATUS_VALIDATED)
      assert.equal(await k.unjudged(held), 0n)
      const after = await c.task(e.commitment)
      assert.deepEqual([after.status, after.selectedNode], [TaskStatus.TASK_STATUS_STARTED, held])
    })

    it('genesis export and import rebuild the count and the hold from the tasks: the imported chain keeps the node out of dispatch until its hold ends', async () => {
      const a = await k.create('a')
      const held = a.task.selectedNode
      await c.run([c.score(a.task, HONEST)])
      const b = await k.create('b')
      const d = await k.create('d')
      assert.ok([b, d].every((x) => x.task.selectedNode !== held))
      const counts = await k.counts()
      assert.deepEqual([...counts].sort(), [0n, 0n, 1n])
      const exported = await c.env.app.exportGenesis()
      const { app, close } = await openApp()
      try {
        await app.initChain({
          time: { seconds: exported.timeSeconds, nanos: 0 },
          chainId: exported.chainId,
          consensusParams: { block: { maxBytes: 22020096n, maxGas: 100_000_000n } } as never,
          validators: [],
          appStateBytes: Buffer.from(JSON.stringify(exported.appState)),
          initialHeight: exported.height + 1n,
        })
        await app.finalizeBlock(blockRequest(exported.height + 1n, [], { timeSeconds: exported.timeSeconds + 1n }))
        await app.commit()
        const imported = await Promise.all(c.env.nodes.map((n) => k.unjudged(n.address, app)))
        assert.deepEqual(imported, counts)
        const again = await app.exportGenesis()
        assert.deepEqual((again.appState as Record<string, unknown>).task, (exported.appState as Record<string, unknown>).task)
        // On the imported chain the node holding the answer is Available but not backed: a new task waits.
        const blocks = c.env.blocks.continueOn(app, exported.height + 1n, exported.timeSeconds + 1n)
        const m = c.createMsg(sha(Buffer.from('after import')), 'after import', FEE)
        const [r] = await blocks.run([[c.env.creator, m.msg]])
        assert.equal(r!.code, 0, r!.log)
        const q = await app.query({
          path: '/beryl.task.v1.Query/Task',
          data: QueryTaskRequest.encode({ taskIdCommitment: m.commitment }).finish(),
          height: 0n,
          prove: false,
        })
        assert.equal(QueryTaskResponse.decode(q.value!).task!.status, TaskStatus.TASK_STATUS_QUEUED)
        // The hold came over with the task: when it ends, the node takes the waiting task.
        await blocks.run([], (await c.task(a.commitment)).holdUntil + 1n)
        const after = await app.query({
          path: '/beryl.task.v1.Query/Task',
          data: QueryTaskRequest.encode({ taskIdCommitment: m.commitment }).finish(),
          height: 0n,
          prove: false,
        })
        const t = QueryTaskResponse.decode(after.value!).task!
        assert.deepEqual([t.status, t.selectedNode], [TaskStatus.TASK_STATUS_STARTED, held])
      } finally {
        await close()
      }
    })
  })

  describe('three nodes at min_stake, every task sampled: the answer hold (decision 0026)', () => {
    const c = chain({ min_sampling_rate: ALWAYS }, 3)
    const k = collateral(c)
    /** The node holds a committed answer; the two others run a task each (Busy); a fourth task waits. */
    const holdOneNode = async () => {
      const a = await k.create('a')
      await c.run([c.score(a.task, HONEST)])
      const b = await k.create('b')
      const d = await k.create('d')
      assert.ok([b, d].every((x) => x.task.status === TaskStatus.TASK_STATUS_STARTED && x.task.selectedNode !== a.task.selectedNode))
      const e = await k.create('e')
      assert.equal(e.task.status, TaskStatus.TASK_STATUS_QUEUED, 'the only Available node holds an unjudged answer')
      return { a, held: a.task.selectedNode, e, committed: await c.task(a.commitment) }
    }

    it('lock-out by never validating: an answer its creator leaves waiting counts only for answer_hold, then the node takes the queued first task in that block', async () => {
      const { a, held, e, committed } = await holdOneNode()
      assert.equal(committed.holdUntil, committed.scoreReadyTime + 30n, 'the hold is answer_hold (30 s by default) from the commitment')
      await c.run([], committed.holdUntil) // the hold's last second: the answer still counts
      assert.equal(await k.unjudged(held), 1n)
      assert.equal((await c.task(e.commitment)).status, TaskStatus.TASK_STATUS_QUEUED)
      await c.run([], committed.holdUntil + 1n)
      const ended = c.env.blocks.blockEvents.filter((x) => x.type === 'answer_hold_ended')
      assert.deepEqual(
        ended.map((x) => Object.fromEntries(x.attributes!.filter((a) => a.key !== 'mode').map((a) => [a.key, a.value]))),
        [{ task: Buffer.from(a.commitment).toString('hex'), node: held }],
      )
      const waiting = await c.task(a.commitment)
      assert.deepEqual([waiting.status, waiting.holdUntil], [TaskStatus.TASK_STATUS_SCORE_READY, 0n], 'still waiting for its creator, no longer held')
      assert.equal(await k.unjudged(held), 0n)
      const started = await c.task(e.commitment)
      assert.deepEqual([started.status, started.selectedNode], [TaskStatus.TASK_STATUS_STARTED, held])
    })

    it('a late validation counts the answer again: selected after its hold, it backs its group from the same stake', async () => {
      const { a, held, committed } = await holdOneNode()
      await c.run([], committed.holdUntil + 1n)
      assert.equal(await k.unjudged(held), 0n)
      // The queued task went to the node in that block; then the late creator validates the first answer.
      const [v] = await c.run([await c.validateMsg([a.commitment], a.taskId)])
      assert.equal(v!.code, 0, v!.log)
      assert.equal((await c.task(a.commitment)).status, TaskStatus.TASK_STATUS_GROUP_PENDING)
      assert.equal(await k.unjudged(held), 1n, 'a running group counts whenever it was validated')
    })

    it('an answer validated within its hold: the end of the hold changes nothing, its running group still counts', async () => {
      const { a, held, committed } = await holdOneNode()
      const [v] = await c.run([await c.validateMsg([a.commitment], a.taskId)])
      assert.equal(v!.code, 0, v!.log)
      assert.equal(await k.unjudged(held), 1n)
      await c.run([], committed.holdUntil + 1n)
      assert.equal(c.env.blocks.blockEvents.filter((x) => x.type === 'answer_hold_ended').length, 0)
      const root = await c.task(a.commitment)
      assert.deepEqual([root.status, root.holdUntil], [TaskStatus.TASK_STATUS_GROUP_PENDING, committed.holdUntil])
      assert.equal(await k.unjudged(held), 1n, 'its group still runs: the answer counts')
    })
  })

  describe('three nodes at min_stake, answer_hold = 0', () => {
    const c = chain({ min_sampling_rate: ALWAYS, answer_hold: '0' }, 3)
    const k = collateral(c)

    it('a waiting answer never counts: the node takes the next first task, and counts once its answer is selected', async () => {
      const a = await k.create('a')
      await c.run([c.score(a.task, HONEST)])
      assert.equal((await c.task(a.commitment)).holdUntil, 0n)
      assert.equal(await k.unjudged(a.task.selectedNode), 0n)
      const b = await k.create('b')
      const d = await k.create('d')
      const e = await k.create('e')
      assert.ok(
        [b, d, e].some((x) => x.task.selectedNode === a.task.selectedNode),
        'the node holding a waiting answer is drawn again',
      )
      await c.run([await c.validateMsg([a.commitment], a.taskId)])
      assert.equal(await k.unjudged(a.task.selectedNode), 1n)
    })
  })

  describe('three nodes at min_stake, every task sampled, a reveal window longer than the unbonding period', () => {
    const c = chain({ min_sampling_rate: ALWAYS, reveal_window: '7200' }, 3)
    const k = collateral(c)

    it('a node that quits with an unjudged fake cannot take its stake out before its group convicts it', async () => {
      const poolBefore = await c.balance(moduleAddress('community_pool'))
      const a = await k.create('a')
      const faker = a.task.selectedNode
      await c.run([c.score(a.task, CHEAT)])
      await c.run([await c.validateMsg([a.commitment], a.taskId)])
      const [q] = await c.run([[k.wallet(faker), { typeUrl: '/beryl.staking.v1.MsgQuit', value: { address: faker } }]])
      assert.equal(q!.code, 0, q!.log)
      assert.equal(await k.nodeStatus(faker), NodeStatus.NODE_STATUS_UNBONDING)
      const root = await c.task(a.commitment)
      for (const s of root.validationTasks) await c.run([c.score(await c.task(s), HONEST)])
      const seats = await Promise.all(root.validationTasks.map((s) => c.task(s)))
      await c.run(seats.map((t) => c.reveal(t))) // the faker withholds its reveal, hoping to be gone first
      const before = await c.balance(faker)
      await c.run([], T0 + 4000n) // the unbonding period (1800 s) has passed, the reveal window (7200 s) has not
      assert.equal((await c.task(a.commitment)).status, TaskStatus.TASK_STATUS_GROUP_PENDING)
      assert.equal(await k.nodeStatus(faker), NodeStatus.NODE_STATUS_UNBONDING, 'the stake stays while it backs an unjudged answer')
      assert.equal(await c.balance(faker), before)
      await c.run([], (await c.task(a.commitment)).deadline + 1n)
      assert.equal((await c.task(a.commitment)).status, TaskStatus.TASK_STATUS_END_INVALIDATED)
      assert.equal(await c.nodeExists(faker), false)
      assert.equal(await c.balance(moduleAddress('community_pool')), poolBefore + STAKE, 'the conviction took the stake')
      assert.equal(await c.balance(faker), before)
    })
  })

  describe('a QoS kick-out (keeper level, memory store)', () => {
    it('a kicked-out node whose stake backs unjudged answers unbonds, and its stake returns only once they are judged', async () => {
      const store = new MemoryStore()
      const { keepers: kp } = berylModules()
      const ctx = (t: bigint) => deliverContext(store, t)
      const node = toBech32('beryl', sha(Buffer.from('kicked')).subarray(0, 20))
      kp.bank.initBalance(ctx(T0), node, [{ denom: 'uberyl', amount: STAKE }])
      kp.staking.join(ctx(T0), {
        address: node,
        gpuName: 'NVIDIA GeForce RTX 4090',
        gpuVramGb: 24,
        runnerVersion: '1.0.0',
        modelIds: ['ab'.repeat(32)],
        stake: STAKE.toString(),
      })
      let unjudged = true
      kp.staking.stakeBacksUnjudged = () => unjudged
      kp.staking.kickOut(ctx(T0 + 1n), node, 'test')
      assert.equal(kp.staking.getNode(ctx(T0 + 1n), node)!.status, NodeStatus.NODE_STATUS_UNBONDING)
      assert.equal(kp.bank.balance(ctx(T0 + 1n), node, 'uberyl'), 0n)
      await kp.staking.returnUnbonded(ctx(T0 + 100n))
      assert.ok(kp.staking.getNode(ctx(T0 + 100n), node), 'held while an answer is unjudged')
      unjudged = false
      await kp.staking.returnUnbonded(ctx(T0 + 101n))
      assert.equal(kp.staking.getNode(ctx(T0 + 101n), node), undefined)
      assert.equal(kp.bank.balance(ctx(T0 + 101n), node, 'uberyl'), STAKE)
    })
  })
})
