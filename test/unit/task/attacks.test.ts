// Attacks on dispatch, the network size behind the sampling rate, the queue, error reports and
// slashing, each written as the attacker would try it (one `it` per attack, named after it).
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { QueryBalanceRequest, QueryBalanceResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query'
import type { BerylApp } from '../../../chain/app.ts'
import { QueryNodeQosRequest, QueryNodeQosResponse } from '../../../proto/gen/beryl/qos/v1/query.ts'
import { QuerySlashesRequest, QuerySlashesResponse } from '../../../proto/gen/beryl/staking/v1/query.ts'
import { QueryTaskRequest, QueryTaskResponse } from '../../../proto/gen/beryl/task/v1/query.ts'
import { AbortReason, TaskStatus, TaskType, type Task } from '../../../proto/gen/beryl/task/v1/types.ts'
import { BlockRunner, initChain, openApp, wallets, type Wallet } from '../../helpers/chain.ts'
import { CHEAT, HONEST, STAKE, chain, sha } from './chain.ts'

const MODEL = 'ab'.repeat(32)
const T0 = 1_700_000_000n
const RTX = 'NVIDIA GeForce RTX 4090'
const image = (prompt: string) => JSON.stringify({ prompt, width: 256, height: 256, steps: 20 })

describe('task attacks: registry, exact network size, dispatch, queue bound, error reports', function () {
  this.timeout(300_000)
  let app: BerylApp, close: () => Promise<void>
  let w: Wallet[], rtx: Wallet[], cpu: Wallet[], creator: Wallet
  let blocks: BlockRunner
  let counter = 0
  const block = (txs: Array<[Wallet, unknown]>, t?: bigint) => blocks.run(txs, t)
  const join = (who: Wallet, gpuName: string, gpuVramGb: number, runnerVersion = '1.2.3') => ({
    typeUrl: '/beryl.staking.v1.MsgJoin',
    value: { address: who.address, gpuName, gpuVramGb, runnerVersion, modelIds: [MODEL], stake: '400000000' },
  })
  const pause = (who: Wallet) => ({ typeUrl: '/beryl.staking.v1.MsgPause', value: { address: who.address } })
  const create = (over: Record<string, unknown> = {}) => {
    const commitment = createHash('sha256').update(`attack-${counter++}`).digest()
    return {
      commitment,
      msg: {
        typeUrl: '/beryl.task.v1.MsgCreateTask',
        value: {
          creator: creator.address,
          taskIdCommitment: commitment,
          nonce: new Uint8Array(32).fill(1),
          taskType: TaskType.TASK_TYPE_IMAGE,
          args: image(`prompt ${counter}`),
          modelIds: [MODEL],
          minVramGb: 0,
          requiredGpu: '',
          requiredGpuVramGb: 0,
          taskVersion: '1.0.0',
          fee: '100000',
          vrfPublicKey: new Uint8Array(32).fill(2),
          ...over,
        },
      },
    }
  }
  const task = async (c: Uint8Array): Promise<Task> =>
    QueryTaskResponse.decode(await blocks.value('/beryl.task.v1.Query/Task', QueryTaskRequest.encode({ taskIdCommitment: c }).finish())).task!
  const balance = async (address: string) =>
    BigInt(
      QueryBalanceResponse.decode(await blocks.value('/cosmos.bank.v1beta1.Query/Balance', QueryBalanceRequest.encode({ address, denom: 'uberyl' }).finish()))
        .balance!.amount,
    )
  const attr = (r: { events?: Array<{ type: string; attributes: Array<{ key: string; value: string }> }> }, type: string, key: string) =>
    r.events!.find((e) => e.type === type)?.attributes.find((a) => a.key === key)?.value

  beforeEach(async () => {
    w = await wallets(9)
    rtx = w.slice(0, 4)
    cpu = w.slice(4, 7)
    creator = w[7]!
    ;({ app, close } = await openApp())
    await initChain(
      app,
      w.map((x) => x.address),
      { task: { params: { min_eligible_nodes: '3', max_queued_tasks: '600' } } },
    )
    blocks = new BlockRunner(app, T0, { gas: '60000000', fee: '2000000' })
    await block([])
    const r = await block([...rtx.map((n) => [n, join(n, RTX, 24)] as [Wallet, unknown]), ...cpu.map((n) => [n, join(n, 'CPU', 8)] as [Wallet, unknown])])
    assert.ok(
      r.every((x) => x.code === 0),
      r.map((x) => x.log).join('; '),
    )
  })
  afterEach(async () => {
    await close()
  })

  it('a GPU name outside the registry, or a registry name with another VRAM (the 64 GB trick), is refused at join', async () => {
    const [unique] = await block([[w[8]!, join(w[8]!, 'NVIDIA GeForce RTX 4090 ', 24)]])
    assert.deepEqual([unique!.codespace, unique!.code], ['staking', 8], unique!.log)
    assert.match(unique!.log!, /the registry lists CPU, /)
    const [vram] = await block([[w[8]!, join(w[8]!, RTX, 64)]])
    assert.deepEqual([vram!.codespace, vram!.code], ['staking', 8], vram!.log)
    assert.match(vram!.log!, /has 24 GB in the registry, not 64/)
  })

  it('a task may filter by registry classes only: an invented GPU class is refused', async () => {
    const [r] = await block([[creator, create({ requiredGpu: 'RTX 4090 Attacker Edition' }).msg]])
    assert.deepEqual([r!.codespace, r!.code], ['task', 2], r!.log)
    assert.match(r!.log!, /not a class of the GPU registry/)
  })

  it('the network behind the sampling rate is the nodes meeting every filter, counted exactly', async () => {
    const count = async (over: Record<string, unknown>) => {
      const [r] = await block([[creator, create(over).msg]])
      assert.equal(r!.code, 0, r!.log)
      return attr(r!, 'task_created', 'eligible_nodes')
    }
    assert.equal(await count({}), '7', 'any GPU: all seven')
    assert.equal(await count({ minVramGb: 16 }), '4', 'VRAM ≥ 16: the RTX nodes only')
    assert.equal(await count({ requiredGpu: 'CPU' }), '3', 'one class')
    const [few] = await block([[creator, create({ requiredGpu: 'NVIDIA L4' }).msg]])
    assert.deepEqual([few!.codespace, few!.code], ['task', 7], 'a class nobody serves: refused, naming the count')
    assert.match(few!.log!, /0 serving nodes meet every filter of this task .* min_eligible_nodes is 3/)
  })

  it('a task whose class shrinks after creation does not block the queue: a lower-priority task of another class starts at once', async () => {
    const high = create({ requiredGpu: 'CPU', fee: '9000000' })
    const r = await block([[creator, high.msg], ...cpu.map((n) => [n, pause(n)] as [Wallet, unknown])])
    assert.ok(r.every((x) => x.code === 0))
    assert.equal((await task(high.commitment)).status, TaskStatus.TASK_STATUS_QUEUED, 'its class paused after creation')
    const low = create({ requiredGpu: RTX, fee: '1000' })
    await block([[creator, low.msg]])
    assert.equal((await task(low.commitment)).status, TaskStatus.TASK_STATUS_STARTED, 'started in its creation block')
    assert.equal((await task(high.commitment)).status, TaskStatus.TASK_STATUS_QUEUED)
  })

  it('250 undispatchable and 250 low-priority tasks do not delay a dispatchable one by a block', async () => {
    const batch = (n: number, over: Record<string, unknown>) => {
      const txs: Array<[Wallet, unknown]> = []
      for (let i = 0; i < n; i += 25) txs.push([creator, Array.from({ length: Math.min(25, n - i) }, () => create(over).msg)])
      return txs
    }
    // The attacker's high-priority tasks whose class then leaves, and a flood of cheap tasks in the honest task's class.
    const flood = [...batch(250, { requiredGpu: 'CPU', fee: '90000' }), ...batch(250, { requiredGpu: RTX, fee: '10' })]
    const honest = create({ requiredGpu: RTX, fee: '50000' })
    const r = await block([...flood, [creator, honest.msg], ...cpu.map((n) => [n, pause(n)] as [Wallet, unknown])])
    assert.ok(
      r.every((x) => x.code === 0),
      r.map((x) => x.log).join('; '),
    )
    const t = await task(honest.commitment)
    assert.equal(t.status, TaskStatus.TASK_STATUS_STARTED, 'the honest task starts in its creation block')
  })

  it('a full queue admits a task only by evicting a lower-priority one, refunded in full; an equal priority is refused', async () => {
    await close()
    ;({ app, close } = await openApp())
    await initChain(
      app,
      w.map((x) => x.address),
      { task: { params: { min_eligible_nodes: '3', max_queued_tasks: '3' } } },
    )
    blocks = new BlockRunner(app, T0, { gas: '60000000', fee: '2000000' })
    await block([])
    await block(cpu.map((n) => [n, join(n, 'CPU', 8)] as [Wallet, unknown]))
    // Three tasks keep the three nodes busy; three more wait in a queue of three.
    const running = await block([[creator, [create({ fee: '1000' }).msg, create({ fee: '1000' }).msg, create({ fee: '1000' }).msg]]])
    assert.equal(running[0]!.code, 0, running[0]!.log)
    const queued = [create({ fee: '1000' }), create({ fee: '1000' }), create({ fee: '1000' })]
    const r = await block([[creator, queued.map((q) => q.msg)]])
    assert.equal(r[0]!.code, 0, r[0]!.log)
    assert.equal((await task(queued[2]!.commitment)).status, TaskStatus.TASK_STATUS_QUEUED)
    const [same] = await block([[creator, create({ fee: '1000' }).msg]])
    assert.deepEqual([same!.codespace, same!.code], ['task', 13], same!.log)
    const before = await balance(creator.address)
    const rich = create({ fee: '5000' })
    const [ok] = await block([[creator, rich.msg]])
    assert.equal(ok!.code, 0, ok!.log)
    const evicted = await task(queued[2]!.commitment)
    assert.deepEqual(
      [evicted.status, evicted.abortReason],
      [TaskStatus.TASK_STATUS_END_ABORTED, AbortReason.ABORT_REASON_EVICTED],
      'the newest of the lowest priority goes',
    )
    assert.equal(await balance(creator.address), before - 2_000_000n - 5000n + 1000n, 'its fee refunded in full')
    assert.equal((await task(queued[0]!.commitment)).status, TaskStatus.TASK_STATUS_QUEUED)
  })
})

describe('task attacks: error reports and slashed nodes (consensus, real LevelDB)', function () {
  this.timeout(180_000)

  describe('unsampled', () => {
    const c = chain({ min_sampling_rate: '0' }, 3)
    it("an error report is never paid: opened after validation it is refunded, and the node's health takes a timeout's penalty", async () => {
      const taskId = sha(Buffer.from('error exit'))
      const m = c.createMsg(taskId, 'e1', 1_000_000n)
      await c.run([[c.env.creator, m.msg]])
      const t = await c.task(m.commitment)
      const node = c.nodeOf(t)
      const before = await c.balance(node.address)
      const creatorBefore = await c.balance(c.env.creator.address)
      const [rep] = await c.run([c.score(t, 'error')])
      assert.equal(rep!.code, 0, rep!.log)
      await c.run([await c.validateMsg([m.commitment], taskId)])
      const [open] = await c.run([c.reveal(t)])
      assert.equal(open!.code, 0, open!.log)
      const ended = await c.task(m.commitment)
      assert.deepEqual([ended.status, ended.abortReason], [TaskStatus.TASK_STATUS_END_ABORTED, AbortReason.ABORT_REASON_ERROR_REPORTED])
      assert.equal(await c.balance(node.address), before - 200_000n, 'not paid (only its two tx fees spent)')
      assert.equal(await c.balance(c.env.creator.address), creatorBefore + 1_000_000n - 100_000n, 'refunded (its validation tx aside)')
      const q = QueryNodeQosResponse.decode((await c.query('/beryl.qos.v1.Query/NodeQos', QueryNodeQosRequest.encode({ node: node.address }).finish())).value!)
      assert.ok(BigInt(q.qos!.healthBase) < 10n ** 18n, 'health penalised')
    })
  })

  describe('every task sampled', () => {
    const c = chain({ min_sampling_rate: '1000000000000000000' }, 3)
    it("a slashed node's committed task waiting for validation ends unpaid, and the slash's evidence is in state, queryable by node", async () => {
      // Task B is committed on node X but not yet validated; then group A (all three nodes) catches X cheating.
      const idB = sha(Buffer.from('task b')),
        idA = sha(Buffer.from('task a'))
      const b = c.createMsg(idB, 'b', 1_000_000n, JSON.stringify({ prompt: 'task b' }))
      await c.run([[c.env.creator, b.msg]])
      const tb = await c.task(b.commitment)
      await c.run([c.score(tb, HONEST)])
      const cheater = tb.selectedNode
      // B's answer is unjudged: X takes part in another group only with a second min_stake bonded (docs/decisions/0024).
      const x = c.env.nodes.find((n) => n.address === cheater)!
      const [added] = await c.run([[x, { typeUrl: '/beryl.staking.v1.MsgAddStake', value: { address: cheater, amount: STAKE.toString() } }]])
      assert.equal(added!.code, 0, added!.log)
      const answer = (t: Task) => (t.selectedNode === cheater ? CHEAT : HONEST)
      const a = c.createMsg(idA, 'a', 1_000_000n, JSON.stringify({ prompt: 'task a' }))
      await c.run([[c.env.creator, a.msg]])
      const ta = await c.task(a.commitment)
      await c.run([c.score(ta, answer(ta))])
      const [v] = await c.run([await c.validateMsg([a.commitment], idA)])
      assert.equal(v!.code, 0, v!.log)
      const seats = await Promise.all((await c.task(a.commitment)).validationTasks.map((x) => c.task(x)))
      await c.run(seats.map((s) => c.score(s, answer(s))))
      const group = [await c.task(a.commitment), ...(await Promise.all(seats.map((s) => c.task(s.taskIdCommitment))))]
      const before = await c.balance(cheater)
      const rs = await c.run(group.map((t) => c.reveal(t)))
      assert.ok(
        rs.every((r) => r.code === 0),
        rs.map((r) => r.log).join('; '),
      )
      assert.equal(await c.nodeExists(cheater), false, 'slashed')
      const aborted = await c.task(b.commitment)
      assert.deepEqual(
        [aborted.status, aborted.abortReason],
        [TaskStatus.TASK_STATUS_END_ABORTED, AbortReason.ABORT_REASON_NODE_SLASHED],
        'its committed task B',
      )
      const [vb] = await c.run([await c.validateMsg([b.commitment], idB)])
      assert.notEqual(vb!.code, 0, 'nothing left to validate')
      assert.equal(await c.balance(cheater), before - 100_000n, 'nothing of task B is paid to the slashed node (its reveal tx aside)')

      const r = QuerySlashesResponse.decode(
        (await c.query('/beryl.staking.v1.Query/Slashes', QuerySlashesRequest.encode({ node: cheater, key: new Uint8Array(), limit: 10 }).finish())).value!,
      )
      assert.equal(r.slashes.length, 1)
      const s = r.slashes[0]!
      const mine = group.find((t) => t.selectedNode === cheater)!
      assert.equal(s.task, Buffer.from(mine.taskIdCommitment).toString('hex'))
      assert.equal(s.reason, 'EndInvalidated')
      assert.deepEqual([...s.groupTasks].sort(), group.map((t) => Buffer.from(t.taskIdCommitment).toString('hex')).sort())
      assert.ok(s.groupScores.includes(Buffer.from(CHEAT).toString('hex')) && s.groupScores.includes(Buffer.from(HONEST).toString('hex')))
      assert.deepEqual([s.resultHashes.length, s.groupCommitments.length, s.groupSalts.length], [3, 3, 3])
      const all = QuerySlashesResponse.decode(
        (await c.query('/beryl.staking.v1.Query/Slashes', QuerySlashesRequest.encode({ node: '', key: new Uint8Array(), limit: 10 }).finish())).value!,
      )
      assert.deepEqual(all.slashes, r.slashes)
    })
  })
})
