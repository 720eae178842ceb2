// The validation group after issue 10: a node commits to its answer (sha256(score ‖ salt)), the
// creator proves the sampling decision only after that commitment is in a block, the chain creates
// the two validation tasks itself, and every member reveals once all three have committed. One `it`
// per attack, named after it.
import assert from 'node:assert/strict'
import { moduleAddress } from '../../../modules/auth/index.ts'
import { QueryNodeQosRequest, QueryNodeQosResponse } from '../../../proto/gen/beryl/qos/v1/query.ts'
import { QuerySlashesRequest, QuerySlashesResponse } from '../../../proto/gen/beryl/staking/v1/query.ts'
import { AbortReason, type Task, TaskStatus, TaskType } from '../../../proto/gen/beryl/task/v1/types.ts'
import type { Wallet } from '../../helpers/chain.ts'
import { CHEAT, HONEST, MODEL, STAKE, chain, sha } from './chain.ts'

const ALWAYS = '1000000000000000000'
const FEE = 1_700_003n
const TX_FEE = 100_000n
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** The flow up to the chain-created group: T1 created, committed (`s1`), validated by its creator. */
function groups(c: ReturnType<typeof chain>) {
  async function selected(tag = 'g', s1: Uint8Array | 'error' = HONEST) {
    const taskId = sha(Buffer.from(tag))
    const m = c.createMsg(taskId, tag, FEE)
    const [created] = await c.run([[c.env.creator, m.msg]])
    assert.equal(created!.code, 0, created!.log)
    const t1 = await c.task(m.commitment)
    assert.equal(t1.status, TaskStatus.TASK_STATUS_STARTED)
    await c.run([c.score(t1, s1)])
    const [v] = await c.run([await c.validateMsg([m.commitment], taskId)])
    assert.equal(v!.code, 0, v!.log)
    const { root, seats } = await members(m.commitment)
    return { taskId, t1, root, seats, validated: v! }
  }
  async function members(commitment: Uint8Array): Promise<{ root: Task; seats: Task[]; all: Task[] }> {
    const root = await c.task(commitment)
    const seats = await Promise.all(root.validationTasks.map((x) => c.task(x)))
    return { root, seats, all: [root, ...seats] }
  }
  const slashesOf = async (node: string) =>
    QuerySlashesResponse.decode(
      (await c.query('/beryl.staking.v1.Query/Slashes', QuerySlashesRequest.encode({ node, key: new Uint8Array(), limit: 10 }).finish())).value!,
    ).slashes
  return { selected, members, slashesOf }
}

describe('validation groups: commit, reveal, chain-spawned seats (consensus, real LevelDB)', function () {
  this.timeout(180_000)

  describe('six nodes, every task sampled', () => {
    const c = chain({ min_sampling_rate: ALWAYS })
    const g = groups(c)

    it("the chain creates a selected task's two validation tasks, with its args, on two other nodes; the creator escrows their fees", async () => {
      const before = await c.balance(c.env.creator.address)
      const { t1, root, seats, validated } = await g.selected()
      assert.equal(root.status, TaskStatus.TASK_STATUS_GROUP_PENDING)
      assert.equal(root.deadline, 0n, 'no creator-validation deadline while the group is pending')
      assert.equal(seats.length, 2)
      for (const s of seats) {
        assert.equal(s.status, TaskStatus.TASK_STATUS_STARTED, 'dispatched in the validation block')
        assert.deepEqual([s.args, s.modelIds, s.minVramGb, s.fee, s.creator], [t1.args, t1.modelIds, t1.minVramGb, t1.fee, t1.creator])
        assert.equal(hex(s.validationOf), hex(t1.taskIdCommitment))
      }
      assert.equal(new Set([t1.selectedNode, ...seats.map((s) => s.selectedNode)]).size, 3, 'three distinct nodes')
      assert.deepEqual(root.groupNodes, [t1.selectedNode, ...seats.map((s) => s.selectedNode)])
      assert.equal(await c.balance(c.env.creator.address), before - 3n * FEE - 2n * TX_FEE, 'T1 and two seats escrowed (and two txs: create, validate)')
      assert.equal(validated.events!.filter((e) => e.type === 'validation_task_created').length, 2)
    })

    it('three matching reveals: every matching member is paid its own fee (the seats at validation, the representative at settlement), nothing refunded', async () => {
      const { root, seats } = await g.selected()
      for (const s of seats) await c.run([c.score(s, HONEST)]) // one block each: seat 0 as fast as T1, seat 1 slower
      const { all } = await g.members(root.taskIdCommitment)
      assert.ok(
        all.every((t) => t.revealStart > 0n),
        'reveals open once all three committed',
      )
      const creatorBefore = await c.balance(c.env.creator.address)
      const nodes = all.map((t) => t.selectedNode)
      const atReveal = await Promise.all(nodes.map((n) => c.balance(n)))
      const rs = await c.run(all.map((t) => c.reveal(t)))
      assert.ok(
        rs.every((r) => r.code === 0),
        rs.map((r) => r.log).join('; '),
      )
      const after = (await g.members(root.taskIdCommitment)).all
      assert.deepEqual(
        after.map((t) => t.status),
        [TaskStatus.TASK_STATUS_GROUP_VALIDATED, TaskStatus.TASK_STATUS_END_GROUP_REFUND, TaskStatus.TASK_STATUS_END_GROUP_REFUND],
      )
      assert.equal(await c.balance(c.env.creator.address), creatorBefore, 'nothing refunded: the creator paid for three runs')
      // Each reveal tx costs its node 100 000; the two matching seats are paid their own fee (1 700 003) at once.
      const atValidation = await Promise.all(nodes.map(async (n, i) => (await c.balance(n)) - atReveal[i]!))
      assert.deepEqual(atValidation, [-TX_FEE, FEE - TX_FEE, FEE - TX_FEE])
      const before = await Promise.all(nodes.map((n) => c.balance(n)))
      const [a] = await c.run([c.attest(root.taskIdCommitment)])
      assert.equal(a!.code, 0, a!.log)
      assert.equal((await c.task(root.taskIdCommitment)).status, TaskStatus.TASK_STATUS_END_GROUP_SUCCESS)
      const gained = await Promise.all(nodes.map(async (n, i) => (await c.balance(n)) - before[i]!))
      assert.deepEqual(gained, [FEE, 0n, 0n], 'the representative is paid its own fee at settlement')
      assert.equal(await c.balance(moduleAddress('task')), 0n)
      const scores = await Promise.all(
        nodes.map(
          async (n) =>
            QueryNodeQosResponse.decode((await c.query('/beryl.qos.v1.Query/NodeQos', QueryNodeQosRequest.encode({ node: n }).finish())).value!).qos!.scores,
        ),
      )
      assert.deepEqual(scores, [[10], [5], [2]])
    })

    it("members cannot read each other's scores before all have committed: only commitments are in state and events, and reveals are refused", async () => {
      const { root, seats } = await g.selected()
      const r1 = await c.run([c.score(seats[0]!, HONEST)])
      const { all } = await g.members(root.taskIdCommitment)
      for (const t of all) {
        assert.equal(t.score.length, 0, 'no plaintext score in state')
        assert.equal(t.revealStart, 0n)
      }
      assert.equal(all[0]!.scoreCommitment.length, 32)
      const seen = JSON.stringify([r1, c.env.blocks.blockEvents], (_, v) => (typeof v === 'bigint' ? v.toString() : v))
      assert.ok(!seen.includes(hex(HONEST)), 'no plaintext score in events')
      const [early] = await c.run([c.reveal(all[0]!)])
      assert.deepEqual([early!.codespace, early!.code], ['task', 5])
      assert.match(early!.log!, /reveals open when all three members/)
    })

    it('a member that copies a revealed score after the fact is refused (commitment mismatch), then slashed as unrevealed', async () => {
      const { root, seats } = await g.selected()
      await c.run([c.score(seats[0]!, HONEST)])
      // The copycat commits to something it hopes to replace later.
      await c.run([c.score(seats[1]!, sha(Buffer.from('placeholder')).subarray(0, 8))])
      const { all } = await g.members(root.taskIdCommitment)
      await c.run([c.reveal(all[0]!)])
      const [copy] = await c.run([c.reveal(all[2]!, { score: HONEST })])
      assert.deepEqual([copy!.codespace, copy!.code], ['task', 14])
      assert.match(copy!.log!, /is not task .*'s commitment/)
      await c.run([c.reveal(all[1]!)])
      const open = await c.task(root.taskIdCommitment)
      await c.run([], open.deadline + 1n)
      const after = (await g.members(root.taskIdCommitment)).all
      assert.deepEqual(
        after.map((t) => t.status),
        [TaskStatus.TASK_STATUS_GROUP_VALIDATED, TaskStatus.TASK_STATUS_END_GROUP_REFUND, TaskStatus.TASK_STATUS_END_INVALIDATED],
      )
      assert.equal(await c.nodeExists(all[2]!.selectedNode), false, 'the copycat is slashed')
    })

    it("a cheating member's different score ends EndInvalidated, slashed; the evidence (commitments, salts, reveals) rechecks from state", async () => {
      const { root, seats } = await g.selected()
      await c.run([c.score(seats[0]!, CHEAT)])
      await c.run([c.score(seats[1]!, HONEST)])
      const { all } = await g.members(root.taskIdCommitment)
      const poolBefore = await c.balance(moduleAddress('community_pool'))
      const rs = await c.run(all.map((t) => c.reveal(t)))
      assert.ok(rs.every((r) => r.code === 0))
      const cheater = all[1]!.selectedNode
      assert.deepEqual(
        (await g.members(root.taskIdCommitment)).all.map((t) => t.status),
        [TaskStatus.TASK_STATUS_GROUP_VALIDATED, TaskStatus.TASK_STATUS_END_INVALIDATED, TaskStatus.TASK_STATUS_END_GROUP_REFUND],
      )
      assert.equal(await c.nodeExists(cheater), false)
      assert.equal(await c.balance(moduleAddress('community_pool')), poolBefore + STAKE)
      const [s] = await g.slashesOf(cheater)
      assert.equal(s!.task, hex(all[1]!.taskIdCommitment))
      assert.deepEqual([...s!.groupTasks].sort(), all.map((t) => hex(t.taskIdCommitment)).sort())
      s!.groupTasks.forEach((_, i) => {
        const score = s!.groupScores[i]!
        assert.equal(hex(sha(Buffer.from(score, 'hex'), Buffer.from(s!.groupSalts[i]!, 'hex'))), s!.groupCommitments[i], 'each reveal opens its commitment')
      })
      assert.ok(s!.groupScores.includes(hex(CHEAT)) && s!.groupScores.includes(hex(HONEST)))
    })

    it('an error report against two matching scores is slashed as a mismatch', async () => {
      const { root, seats } = await g.selected('e', 'error')
      for (const s of seats) await c.run([c.score(s, HONEST)])
      const { all } = await g.members(root.taskIdCommitment)
      await c.run(all.map((t) => c.reveal(t)))
      const after = (await g.members(root.taskIdCommitment)).all
      assert.equal(after[0]!.status, TaskStatus.TASK_STATUS_END_INVALIDATED)
      assert.equal(await c.nodeExists(all[0]!.selectedNode), false)
      const [s] = await g.slashesOf(all[0]!.selectedNode)
      assert.ok(s!.groupScores.includes('error'))
    })

    it('a timed-out seat is re-dispatched to a node outside the group, and the cheating T1 is slashed', async () => {
      const { root, seats } = await g.selected('t', CHEAT)
      await c.run([c.score(seats[1]!, HONEST)])
      // Seat 0's node holds back (hoping the group never completes): its execution timeout passes.
      await c.run([], seats[0]!.deadline + 1n)
      const timedOut = await c.task(seats[0]!.taskIdCommitment)
      assert.deepEqual([timedOut.status, timedOut.abortReason], [TaskStatus.TASK_STATUS_END_ABORTED, AbortReason.ABORT_REASON_TIMEOUT])
      const { root: r2, seats: s2 } = await g.members(root.taskIdCommitment)
      assert.equal(r2.seatRetries, 1)
      const replacement = s2.find((s) => hex(s.taskIdCommitment) !== hex(seats[1]!.taskIdCommitment))!
      assert.equal(replacement.status, TaskStatus.TASK_STATUS_STARTED)
      assert.ok(!root.groupNodes.includes(replacement.selectedNode) && replacement.selectedNode !== seats[0]!.selectedNode, 'a node new to the group')
      await c.run([c.score(replacement, HONEST)])
      const { all } = await g.members(root.taskIdCommitment)
      await c.run(all.map((t) => c.reveal(t)))
      assert.equal((await c.task(root.taskIdCommitment)).status, TaskStatus.TASK_STATUS_END_INVALIDATED)
      assert.equal(await c.nodeExists(root.selectedNode), false, 'T1 slashed')
    })

    it('the creator-validation timeout never pays a T1 whose group is pending', async () => {
      const { root, seats } = await g.selected()
      await c.run(seats.map((s) => c.score(s, HONEST)))
      const node = root.selectedNode
      const before = await c.balance(node)
      await c.run([], root.scoreReadyTime + 601n)
      const t = await c.task(root.taskIdCommitment)
      assert.equal(t.status, TaskStatus.TASK_STATUS_GROUP_PENDING, 'past its creation-validation deadline, still pending')
      assert.equal(await c.balance(node), before)
    })

    it('a creator cannot choose the group: three tasks in a validation are refused, and a seat cannot be cancelled', async () => {
      const { seats } = await g.selected('own')
      const [cancel] = await c.run([
        [c.env.creator, { typeUrl: '/beryl.task.v1.MsgCancelTask', value: { creator: c.env.creator.address, taskIdCommitment: seats[0]!.taskIdCommitment } }],
      ])
      // Last: a message refused before execution does not use up the account's sequence.
      const taskId = sha(Buffer.from('choose'))
      const ms = ['c1', 'c2', 'c3'].map((n) => c.createMsg(taskId, n, FEE))
      await c.run(ms.map((m) => [c.env.creator, m.msg] as [Wallet, unknown]))
      for (const m of ms) await c.run([c.score(await c.task(m.commitment), HONEST)])
      const [three] = await c.run([
        await c.validateMsg(
          ms.map((m) => m.commitment),
          taskId,
        ),
      ])
      assert.match(three!.log!, /give exactly one task, got 3/)
      assert.match(cancel!.log!, /belongs to the chain/)
    })

    it('a validation task is never validated by its creator, and a validated task cannot be validated before its commitment', async () => {
      const { seats } = await g.selected()
      const [v] = await c.run([await c.validateMsg([seats[0]!.taskIdCommitment], sha(Buffer.from('g')))])
      assert.equal(v!.code, 11)
      const taskId = sha(Buffer.from('early'))
      const m = c.createMsg(taskId, 'early', FEE)
      await c.run([[c.env.creator, m.msg]])
      const [early] = await c.run([await c.validateMsg([m.commitment], taskId)])
      assert.match(early!.log!, /once its node's score commitment is in a block/)
    })
  })

  describe('three nodes, every task sampled', () => {
    const c = chain({ min_sampling_rate: ALWAYS }, 3)
    const g = groups(c)

    it("an unrevealed commitment is slashed when the reveal window closes, and its node's other running task ends NodeSlashed", async () => {
      const { root, seats } = await g.selected()
      for (const s of seats) await c.run([c.score(s, HONEST)])
      // Every node holds one unjudged answer; with a second min_stake bonded each may take one more
      // (docs/decisions/0024): another task starts on one of them, which then withholds its reveal.
      const addStake = c.env.nodes.map(
        (n) => [n, { typeUrl: '/beryl.staking.v1.MsgAddStake', value: { address: n.address, amount: STAKE.toString() } }] as [Wallet, unknown],
      )
      assert.ok((await c.run(addStake)).every((r) => r.code === 0))
      const other = c.createMsg(sha(Buffer.from('other')), 'o', FEE, JSON.stringify({ prompt: 'other', width: 1024, height: 1024, steps: 50 }))
      await c.run([[c.env.creator, other.msg]])
      const running = await c.task(other.commitment)
      assert.equal(running.status, TaskStatus.TASK_STATUS_STARTED)
      const { all } = await g.members(root.taskIdCommitment)
      const withholder = running.selectedNode
      await c.run(all.filter((t) => t.selectedNode !== withholder).map((t) => c.reveal(t)))
      const open = await c.task(root.taskIdCommitment)
      await c.run([], open.deadline)
      assert.equal((await c.task(root.taskIdCommitment)).status, TaskStatus.TASK_STATUS_GROUP_PENDING, 'open at the deadline')
      await c.run([], open.deadline + 1n)
      const after = (await g.members(root.taskIdCommitment)).all
      const w = after.find((t) => t.selectedNode === withholder)!
      assert.equal(w.status, TaskStatus.TASK_STATUS_END_INVALIDATED)
      assert.equal(await c.nodeExists(withholder), false)
      assert.ok(
        after.some((t) => t.status === TaskStatus.TASK_STATUS_GROUP_VALIDATED),
        'the two revealed, matching members stand',
      )
      const aborted = await c.task(other.commitment)
      assert.deepEqual([aborted.status, aborted.abortReason], [TaskStatus.TASK_STATUS_END_ABORTED, AbortReason.ABORT_REASON_NODE_SLASHED])
      const [s] = await g.slashesOf(withholder)
      assert.ok(s!.groupScores.includes('unrevealed'))
    })

    it('seat retries exhausted (no node left outside the group): the group ends SeatUnfilled, everyone refunded, nobody slashed', async () => {
      const { root, seats } = await g.selected('x', CHEAT)
      await c.run([c.score(seats[1]!, HONEST)])
      const before = await c.balance(c.env.creator.address)
      await c.run([], seats[0]!.deadline + 1n)
      // The replacement seat can go to no node: all three have held a seat of this group.
      const { seats: s2 } = await g.members(root.taskIdCommitment)
      const replacement = s2.find((s) => hex(s.taskIdCommitment) !== hex(seats[1]!.taskIdCommitment))!
      assert.equal(replacement.status, TaskStatus.TASK_STATUS_QUEUED)
      await c.run([], replacement.deadline + 1n)
      const { all } = await g.members(root.taskIdCommitment)
      assert.ok(all.every((t) => t.status === TaskStatus.TASK_STATUS_END_ABORTED))
      assert.equal(all[0]!.abortReason, AbortReason.ABORT_REASON_SEAT_UNFILLED)
      assert.equal(await c.balance(c.env.creator.address), before + 3n * FEE, 'T1, the timed-out seat, the replacement and the last seat: all refunded')
      assert.ok(await c.nodeExists(root.selectedNode), 'nobody slashed')
      assert.equal(await c.balance(moduleAddress('task')), 0n)
    })
  })

  describe('a text task', () => {
    const c = chain({ min_sampling_rate: ALWAYS })
    const g = groups(c)

    it("a text task's validation tasks are pinned to T1's GPU class (exact hashes need the same hardware)", async () => {
      const taskId = sha(Buffer.from('text'))
      const m = c.createMsg(taskId, 'text', FEE)
      const msg = m.msg as { value: Record<string, unknown> }
      msg.value.taskType = TaskType.TASK_TYPE_TEXT
      msg.value.args = JSON.stringify({ prompt: 'Write a haiku about rain' })
      await c.run([[c.env.creator, msg]])
      const t1 = await c.task(m.commitment)
      await c.run([c.score(t1, new Uint8Array(32).fill(7))])
      const [v] = await c.run([await c.validateMsg([m.commitment], taskId)])
      assert.equal(v!.code, 0, v!.log)
      const { seats } = await g.members(m.commitment)
      for (const s of seats) assert.deepEqual([s.requiredGpu, s.requiredGpuVramGb], ['NVIDIA GeForce RTX 4090', 24])
    })
  })

  describe('a full queue (max_queued_tasks 1, three nodes)', () => {
    const c = chain({ min_sampling_rate: ALWAYS, max_queued_tasks: '1' }, 3)
    const g = groups(c)

    it('a validation seat is never evicted by a full queue: its group would end without a judgement', async () => {
      const t1 = c.createMsg(sha(Buffer.from('t1')), 't1', FEE)
      await c.run([[c.env.creator, t1.msg]])
      await c.run([c.score(await c.task(t1.commitment), HONEST)])
      // Another task takes a second node and the third pauses: one seat is reserved on the Busy node, the
      // other finds no serving node outside the group and waits in the queue.
      const busy = c.createMsg(sha(Buffer.from('busy')), 'busy', FEE, JSON.stringify({ prompt: 'busy', width: 1024, height: 1024, steps: 50 }))
      await c.run([[c.env.creator, busy.msg]])
      const taken = [(await c.task(t1.commitment)).selectedNode, (await c.task(busy.commitment)).selectedNode]
      const third = c.env.nodes.find((n) => !taken.includes(n.address))!
      await c.run([[third, { typeUrl: '/beryl.staking.v1.MsgPause', value: { address: third.address } }]])
      await c.run([await c.validateMsg([t1.commitment], sha(Buffer.from('t1')))])
      const { seats } = await g.members(t1.commitment)
      assert.deepEqual(
        seats.map((s) => [s.status, s.selectedNode]).sort(),
        [
          [TaskStatus.TASK_STATUS_QUEUED, ''],
          [TaskStatus.TASK_STATUS_QUEUED, taken[1]],
        ],
        'one seat reserved on the Busy node, one in the queue',
      )
      const queued = seats.find((s) => !s.selectedNode)!
      // The third node comes back in the block of a richer task: the queue is still full of the seat (dispatch
      // runs at the block's end), so the task is refused, and then the seat goes to the third node.
      const rich = c.createMsg(sha(Buffer.from('rich')), 'rich', 1_000n * FEE)
      const [, r] = await c.run([
        [third, { typeUrl: '/beryl.staking.v1.MsgResume', value: { address: third.address } }],
        [c.env.creator, rich.msg],
      ])
      assert.deepEqual([r!.codespace, r!.code], ['task', 13], 'refused rather than evicting the seat')
      const after = await c.task(queued.taskIdCommitment)
      assert.deepEqual([after.status, after.selectedNode], [TaskStatus.TASK_STATUS_STARTED, third.address])
    })
  })

  describe('seats drawn from every serving node (eight nodes, six of them computing long tasks)', () => {
    // min_stake 40 BERYL: each node's 400 BERYL backs ten open answers, so collateral never holds the pair up here.
    const c = chain({ min_sampling_rate: ALWAYS }, 8, [100n], { min_stake: '40000000' })
    const g = groups(c)
    const long = (i: number) => JSON.stringify({ prompt: `long ${i}`, width: 1024, height: 1024, steps: 50 })
    /** Six nodes take long tasks and compute; the two left free are returned (the attacker's, who answers at once). */
    const running = new Map<string, Uint8Array>() // node → its long task
    async function sixBusy(): Promise<string[]> {
      running.clear()
      // Every node bonds max_stake (10 × min_stake, equal weights): the pair's open groups never wait on collateral.
      for (let i = 0; i < 6; i++) {
        const m = c.createMsg(sha(Buffer.from(`busy ${i}`)), `busy ${i}`, FEE, long(i))
        await c.run([[c.env.creator, m.msg]])
        running.set((await c.task(m.commitment)).selectedNode, m.commitment)
      }
      return c.env.nodes.map((n) => n.address).filter((a) => !running.has(a))
    }
    /** A T1 on one of the free nodes, answered and validated (every task is sampled): its group's seats. */
    async function sampledT1(tag: string): Promise<{ t1: Task; seats: Task[] }> {
      const id = sha(Buffer.from(tag))
      const m = c.createMsg(id, tag, FEE, JSON.stringify({ prompt: tag }))
      await c.run([[c.env.creator, m.msg]])
      const t1 = await c.task(m.commitment)
      await c.run([c.score(t1, HONEST)])
      const [v] = await c.run([await c.validateMsg([m.commitment], id)])
      assert.equal(v!.code, 0, v!.log)
      return { t1, seats: (await g.members(m.commitment)).seats }
    }

    it('availability capture: a Sybil pair that is always free wins a seat of its own group no more often than a uniform draw', async () => {
      // Seats drawn among the nodes that are free would give the pair's second node a seat of every group its
      // first node leads (2 of 3 matching: its fake wins). Drawn among the 7 serving nodes outside the group,
      // it holds one of the 2 seats with q = 1 − C(6,2)/C(7,2) = 2/7.
      const ring = await sixBusy()
      const TRIALS = 12
      let captured = 0,
        reserved = 0
      for (let i = 0; i < TRIALS; i++) {
        const { t1, seats } = await sampledT1(`capture ${i}`)
        assert.ok(ring.includes(t1.selectedNode), 'only the pair is free to take a first task')
        const mine = seats.filter((s) => ring.includes(s.selectedNode))
        if (mine.length) captured++
        reserved += seats.filter((s) => s.status === TaskStatus.TASK_STATUS_QUEUED && s.selectedNode).length
        // The pair answers its seat at once, so both are free for the next trial.
        for (const s of mine) if (s.status === TaskStatus.TASK_STATUS_STARTED) await c.run([c.score(s, HONEST)])
      }
      // Binomial(12, 2/7): mean 3.4, P(≥ 9) < 0.1 %; drawn among the free nodes it is 12 of 12.
      assert.ok(captured <= 8, `the pair held a seat in ${captured} of ${TRIALS} groups`)
      assert.ok(captured >= 1, 'the pair is drawn too (it serves like any node)')
      assert.ok(reserved >= TRIALS, `seats reserved on computing nodes: ${reserved}`)
    })

    it('a seat reserved on a computing node starts when the node is free, before any queued first task', async () => {
      await sixBusy()
      const { seats } = await sampledT1('reserved')
      const waiting = seats.find((s) => s.status === TaskStatus.TASK_STATUS_QUEUED && s.selectedNode)
      assert.ok(waiting, 'a seat is reserved on a computing node')
      const node = c.env.nodes.find((n) => n.address === waiting.selectedNode)!
      // First tasks take every free node until one waits in the queue.
      let first
      for (let i = 0; ; i++) {
        first = c.createMsg(sha(Buffer.from(`first ${i}`)), `first ${i}`, 2n * FEE, long(100 + i))
        const [r] = await c.run([[c.env.creator, first.msg]])
        assert.equal(r!.code, 0, r!.log)
        if ((await c.task(first.commitment)).status === TaskStatus.TASK_STATUS_QUEUED) break
        assert.ok(i < 4, 'the free nodes are taken')
      }
      // The reserved node finishes its long task: it takes its seat, not the richer first task.
      await c.run([c.score(await c.task(running.get(node.address)!), HONEST)])
      assert.equal((await c.task(first.commitment)).status, TaskStatus.TASK_STATUS_QUEUED)
      const seat = await c.task(waiting.taskIdCommitment)
      assert.deepEqual([seat.status, seat.selectedNode], [TaskStatus.TASK_STATUS_STARTED, node.address])
    })

    it('shedding a reserved seat by pausing costs what a timeout costs: EndAborted(NodeLeft), the health penalty, and the group gets a new seat', async () => {
      await sixBusy()
      const { t1, seats } = await sampledT1('left')
      const waiting = seats.find((s) => s.status === TaskStatus.TASK_STATUS_QUEUED && s.selectedNode)!
      const node = c.env.nodes.find((n) => n.address === waiting.selectedNode)!
      const health = async () =>
        BigInt(
          QueryNodeQosResponse.decode((await c.query('/beryl.qos.v1.Query/NodeQos', QueryNodeQosRequest.encode({ node: node.address }).finish())).value!).qos!
            .healthBase,
        )
      const before = await health()
      const [r] = await c.run([[node, { typeUrl: '/beryl.staking.v1.MsgPause', value: { address: node.address } }]])
      assert.equal(r!.code, 0, r!.log)
      const gone = await c.task(waiting.taskIdCommitment)
      assert.deepEqual([gone.status, gone.abortReason], [TaskStatus.TASK_STATUS_END_ABORTED, AbortReason.ABORT_REASON_NODE_LEFT])
      // A first timeout at full health multiplies it by 0.95 (crynux.md §5): the same here, so pausing is no cheaper way out.
      assert.equal(before, 10n ** 18n, 'full health before')
      assert.equal(await health(), (before * 95n) / 100n)
      const root = await c.task(t1.taskIdCommitment)
      assert.equal(root.seatRetries, 1)
      assert.equal(root.validationTasks.length, 2)
      assert.ok(!root.validationTasks.some((v) => Buffer.from(v).equals(Buffer.from(waiting.taskIdCommitment))), 'the seat was replaced')
    })
  })

  describe('a GPU class too small for a group (five RTX 4090 and one RTX 3060)', () => {
    const c = chain({ min_sampling_rate: ALWAYS }, 5)
    const text = (i: number) => {
      const m = c.createMsg(sha(Buffer.from(`text ${i}`)), `text ${i}`, FEE)
      const msg = m.msg as { value: Record<string, unknown> }
      msg.value.taskType = TaskType.TASK_TYPE_TEXT
      msg.value.args = JSON.stringify({ prompt: `question ${i}` })
      return m
    }

    it('a node alone in its GPU class never runs an unpinned text task: its seats could never be filled, and cheating there would be free', async () => {
      const loner = c.env.w[5]!
      const [j] = await c.run([
        [
          loner,
          {
            typeUrl: '/beryl.staking.v1.MsgJoin',
            value: {
              address: loner.address,
              gpuName: 'NVIDIA GeForce RTX 3060',
              gpuVramGb: 12,
              runnerVersion: '1.0.0',
              modelIds: [MODEL],
              stake: STAKE.toString(),
            },
          },
        ],
      ])
      assert.equal(j!.code, 0, j!.log)
      const ms = [0, 1, 2, 3, 4, 5].map(text)
      const rs = await c.run(ms.map((m) => [c.env.creator, m.msg] as [Wallet, unknown]))
      assert.ok(
        rs.every((r) => r.code === 0),
        rs.map((r) => r.log).join('; '),
      )
      assert.ok(
        rs[0]!.events!.some((e) => e.type === 'task_created' && e.attributes!.some((x) => x.key === 'eligible_nodes' && x.value === '5')),
        'its network: the RTX 4090 class',
      )
      const ts = await Promise.all(ms.map((m) => c.task(m.commitment)))
      assert.ok(ts.every((t) => t.selectedNode !== loner.address))
      assert.equal(ts.filter((t) => t.status === TaskStatus.TASK_STATUS_QUEUED).length, 1, 'the sixth waits for an RTX 4090 while the RTX 3060 is free')
      // An image task is compared by pHash across classes: it may run there.
      const img = c.createMsg(sha(Buffer.from('img')), 'img', FEE)
      await c.run([[c.env.creator, img.msg]])
      assert.equal((await c.task(img.commitment)).selectedNode, loner.address)
    })
  })

  describe('a sampled and an unsampled T1 (rate 50%)', () => {
    const c = chain({ min_sampling_rate: '500000000000000000' })

    it('nothing a third party can read differs between a sampled and an unsampled T1 before its commitment is in a block', async () => {
      // Tasks of one creator and key, alike but for their ids; the VRF selects some and not others.
      const views: Array<{ sampled: boolean; view: string }> = []
      for (let i = 0; i < 8 && new Set(views.map((v) => v.sampled)).size < 2; i++) {
        const taskId = sha(Buffer.from(`t${i}`))
        const m = c.createMsg(taskId, `n${i}`, 1n)
        const created = await c.run([[c.env.creator, m.msg]])
        // The block's own events, without the validator set's pay of the previous block's transaction fees
        // (BeginBlock), which depends on what ran before and not on this task.
        const createBlock = c.env.blocks.blockEvents.filter((e) => !e.attributes?.some((a) => a.key === 'mode' && a.value === 'BeginBlock'))
        const t = await c.task(m.commitment)
        const [v] = await c.run([await c.validateMsg([m.commitment], taskId)]) // refused: no commitment yet
        assert.match(v!.log!, /once its node's score commitment is in a block/)
        const committed = await c.run([c.score(t, HONEST)])
        const after = await c.task(m.commitment)
        // The VRF decision, as the creator knows it (validating now reveals it).
        const [val] = await c.run([await c.validateMsg([m.commitment], taskId)])
        assert.equal(val!.code, 0, val!.log)
        const sampled = (await c.task(m.commitment)).status === TaskStatus.TASK_STATUS_GROUP_PENDING
        // What anyone could read up to the commitment's block, with this task's own ids and times normalised.
        const ids = [hex(m.commitment), hex(t.samplingSeed), t.selectedNode, hex(t.nonce), hex(after.scoreCommitment)]
        const norm = (x: unknown) => {
          let s = JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? 'n' : v instanceof Uint8Array ? hex(v) : v))
          for (const id of ids) s = s.split(id).join('<id>')
          return s.replace(/"(create|start|scoreReady|deadline)[A-Za-z]*":"?n"?/g, '"$1":"t"').replace(/\d{10}/g, 'T')
        }
        const fields = (x: Task) => ({ ...x, taskIdCommitment: 0, nonce: 0, samplingSeed: 0, selectedNode: 0, scoreCommitment: 0, sequence: 0 })
        const events = (rs: Array<{ events?: Array<{ type: string; attributes?: Array<{ key: string; value: string }> }> }>) =>
          rs.flatMap((r) => (r.events ?? []).filter((e) => e.type.startsWith('task') || e.type === 'sampling_seed'))
        views.push({ sampled, view: norm([fields(t), fields(after), events(created), createBlock, events(committed)]) })
        // Settle the task so the node is free for the next one.
        if (sampled) await c.run([], c.env.now + 100_000n)
      }
      const s = views.find((v) => v.sampled)
      const u = views.find((v) => !v.sampled)
      assert.ok(s && u, 'the VRF selected one task and not another')
      assert.equal(s.view, u.view)
    })
  })
})
