import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { QueryBalanceRequest, QueryBalanceResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query'
import type { BerylApp } from '../../../chain/app.ts'
import { moduleAddress } from '../../../modules/auth/index.ts'
import { QueryNodeRequest, QueryNodeResponse } from '../../../proto/gen/beryl/staking/v1/query.ts'
import { NodeStatus } from '../../../proto/gen/beryl/staking/v1/types.ts'
import { QueryTaskRequest, QueryTaskResponse } from '../../../proto/gen/beryl/task/v1/query.ts'
import { AbortReason, TaskStatus, TaskType, type Task } from '../../../proto/gen/beryl/task/v1/types.ts'
import { BlockRunner, initChain, openApp, wallets, type Wallet } from '../../helpers/chain.ts'
import { QuerySeedRequest, QuerySeedResponse } from '../../../proto/gen/beryl/vss/v1/query.ts'

const MODEL = 'ab'.repeat(32)
const T0 = 1_700_000_000n
const FEE = 2_000_000n // 2 BERYL
const image = (prompt: string, extra: Record<string, unknown> = {}) => JSON.stringify({ prompt, width: 256, height: 256, steps: 20, ...extra })
// 30 s + ceil(256·256·20·10 / 262144) = 80 s estimated; execution timeout clamp(2·80, 60, 7200) = 160 s.
const EXEC_TIMEOUT = 160n

describe('task: creation, dispatch, cancellation and timeouts (consensus, real LevelDB)', function () {
  this.timeout(120_000)
  let app: BerylApp, close: () => Promise<void>
  let w: Wallet[]
  let nodes: Wallet[], creator: Wallet
  let counter = 0

  let blocks: BlockRunner
  /** Runs the messages (each signed by its wallet) in the next block at time `t`; returns the tx results. */
  const block = (txs: Array<[Wallet, unknown]>, t?: bigint) => blocks.run(txs, t)
  /** A registry class of this VRAM: the 24 GB RTX 4090 or the 8 GB CPU profile. */
  const gpuOf = (vram: number) => (vram === 8 ? 'CPU' : 'NVIDIA GeForce RTX 4090')
  const join = (who: Wallet, vram = 24) => ({
    typeUrl: '/beryl.staking.v1.MsgJoin',
    value: { address: who.address, gpuName: gpuOf(vram), gpuVramGb: vram, runnerVersion: '1.2.3', modelIds: [MODEL], stake: '400000000' },
  })
  const create = (over: Record<string, unknown> = {}) => {
    const commitment = createHash('sha256').update(`task-${counter++}`).digest()
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
          minVramGb: 8,
          requiredGpu: '',
          requiredGpuVramGb: 0,
          taskVersion: '1.0.0',
          fee: FEE.toString(),
          vrfPublicKey: new Uint8Array(32).fill(2),
          ...over,
        },
      },
    }
  }
  const cancel = (commitment: Uint8Array, who = creator) => ({
    typeUrl: '/beryl.task.v1.MsgCancelTask',
    value: { creator: who.address, taskIdCommitment: commitment },
  })
  const query = async (path: string, data: Uint8Array) => {
    const r = await app.query({ path, data, height: 0n, prove: false })
    if (r.code) throw new Error(r.log)
    return r.value!
  }
  const task = async (c: Uint8Array): Promise<Task> =>
    QueryTaskResponse.decode(await query('/beryl.task.v1.Query/Task', QueryTaskRequest.encode({ taskIdCommitment: c }).finish())).task!
  const nodeStatus = async (who: Wallet) =>
    QueryNodeResponse.decode(await query('/beryl.staking.v1.Query/Node', QueryNodeRequest.encode({ address: who.address }).finish())).node!.status
  const balance = async (address: string) =>
    BigInt(
      QueryBalanceResponse.decode(await query('/cosmos.bank.v1beta1.Query/Balance', QueryBalanceRequest.encode({ address, denom: 'uberyl' }).finish())).balance!
        .amount,
    )

  beforeEach(async () => {
    w = await wallets(8)
    nodes = w.slice(0, 6)
    creator = w[6]!
    ;({ app, close } = await openApp())
    await initChain(
      app,
      w.map((x) => x.address),
      { task: { params: { min_eligible_nodes: '3' } } },
    )
    blocks = new BlockRunner(app, T0)
    await block([])
  })
  afterEach(async () => {
    await close()
  })

  /** Joins the first vram.length nodes with those VRAM sizes (three by default). */
  const joinAll = async (vram: number[] = [24, 24, 24]) => {
    const r = await block(vram.map((v, i) => [nodes[i]!, join(nodes[i]!, v)] as [Wallet, unknown]))
    assert.ok(
      r.every((x) => x.code === 0),
      r.map((x) => x.log).join('; '),
    )
  }
  const pause = (who: Wallet) => ({ typeUrl: '/beryl.staking.v1.MsgPause', value: { address: who.address } })
  /**
   * A task that stays queued: created while three nodes serve, whose nodes all pause later in the
   * same block (its class shrinks after creation), so no node is Available at dispatch.
   */
  const queuedTask = async () => {
    await joinAll()
    const c = create()
    const r = await block([[creator, c.msg], ...nodes.slice(0, 3).map((n) => [n, pause(n)] as [Wallet, unknown])])
    assert.ok(
      r.every((x) => x.code === 0),
      r.map((x) => x.log).join('; '),
    )
    return c
  }

  it('creation escrows the fee, fixes the sampling rate, and refuses a reused commitment', async () => {
    await joinAll()
    const before = await balance(creator.address)
    const { commitment, msg } = create()
    const [r] = await block([[creator, msg]])
    assert.equal(r!.code, 0, r!.log)
    assert.equal(await balance(creator.address), before - FEE - 100_000n)
    assert.equal(await balance(moduleAddress('task')), FEE)
    const t = await task(commitment)
    assert.equal(t.samplingRate, (10n ** 16n).toString(), '2 BERYL on 3 nodes: the 1% floor')
    assert.equal(t.estimatedSeconds, 80n)
    const again = await block([[creator, { ...msg, value: { ...msg.value, args: image('other') } }]])
    assert.deepEqual([again[0]!.codespace, again[0]!.code], ['task', 3])
  })

  it('without vote extensions the sampling seed is H(chain seed ‖ commitment), the chain seed H(previous seed ‖ height) (no block hash), fixed in the creation block', async () => {
    await joinAll()
    const { commitment, msg } = create()
    await block([[creator, msg]])
    const h = blocks.height
    const seedAt = async (height: bigint) =>
      QuerySeedResponse.decode(
        (await app.query({ path: '/beryl.vss.v1.Query/Seed', data: QuerySeedRequest.encode({ height }).finish(), height: 0n, prove: false })).value!,
      ).seed!
    const hb = Buffer.alloc(8)
    hb.writeBigUInt64BE(h)
    const chainSeed = await seedAt(h)
    assert.equal(chainSeed.contributors, 0)
    assert.deepEqual(
      Buffer.from(chainSeed.seed),
      createHash('sha256')
        .update((await seedAt(h - 1n)).seed)
        .update(hb)
        .digest(),
    )
    const expected = createHash('sha256').update(chainSeed.seed).update(commitment).digest()
    assert.deepEqual(Buffer.from((await task(commitment)).samplingSeed), expected)
  })

  it('dispatch starts the task on an eligible node in the creation block; the node is Busy', async () => {
    await joinAll()
    const { commitment, msg } = create()
    await block([[creator, msg]])
    const t = await task(commitment)
    assert.equal(t.status, TaskStatus.TASK_STATUS_STARTED)
    assert.ok(nodes.some((n) => n.address === t.selectedNode))
    assert.equal(t.startTime, blocks.now)
    assert.equal(t.deadline, blocks.now + EXEC_TIMEOUT)
    assert.equal(await nodeStatus(nodes.find((n) => n.address === t.selectedNode)!), NodeStatus.NODE_STATUS_BUSY)
  })

  it('fewer than min_eligible_nodes eligible nodes: creation fails with a clear error and takes nothing', async () => {
    await block(nodes.slice(0, 2).map((n) => [n, join(n)]))
    const before = await balance(creator.address)
    const [r] = await block([[creator, create().msg]])
    assert.deepEqual([r!.codespace, r!.code], ['task', 7])
    assert.match(r!.log!, /2 serving nodes meet every filter of this task .*min_eligible_nodes is 3/)
    assert.equal(await balance(creator.address), before - 100_000n)
  })

  it('busy nodes still count as eligible (a task may be created while others run); paused ones do not', async () => {
    await joinAll()
    const [r1] = await block([[creator, create().msg]])
    assert.equal(r1!.code, 0, r1!.log)
    const [r2] = await block([[creator, create().msg]])
    assert.equal(r2!.code, 0, 'one node busy, three serve the model: ' + r2!.log)
    const idle = nodes.slice(0, 3)
    const states = await Promise.all(idle.map((n) => nodeStatus(n)))
    const free = idle[states.indexOf(NodeStatus.NODE_STATUS_AVAILABLE)]!
    await block([[free, { typeUrl: '/beryl.staking.v1.MsgPause', value: { address: free.address } }]])
    const [r3] = await block([[creator, create().msg]])
    assert.deepEqual([r3!.codespace, r3!.code], ['task', 7], 'two busy and one paused: two serve')
    assert.match(r3!.log!, /2 serving nodes meet every filter/)
  })

  it('filters hold: a node without enough VRAM or with an incompatible version is never selected', async () => {
    await joinAll([8, 8, 24, 24, 24, 24])
    const picked = new Set<string>()
    for (let i = 0; i < 3; i++) {
      const { commitment, msg } = create({ minVramGb: 16 })
      await block([[creator, msg]])
      const t = await task(commitment)
      assert.equal(t.status, TaskStatus.TASK_STATUS_STARTED)
      picked.add(t.selectedNode)
    }
    assert.ok(!picked.has(nodes[0]!.address) && !picked.has(nodes[1]!.address), 'an 8 GB node never gets a 16 GB task')
    const [v2] = await block([[creator, create({ taskVersion: '2.0.0' }).msg]])
    assert.deepEqual([v2!.codespace, v2!.code], ['task', 7], 'no node runs major version 2: refused at creation, not queued forever')
    assert.match(v2!.log!, /0 serving nodes meet every filter/)
  })

  it('queue timeout at its exact boundary: queued one second before and at the deadline, refunded after', async () => {
    const { commitment } = await queuedTask()
    const t = await task(commitment)
    assert.equal(t.status, TaskStatus.TASK_STATUS_QUEUED)
    assert.equal(t.deadline, t.createTime + 21_600n)
    const before = await balance(creator.address)
    await block([], t.deadline - 1n)
    assert.equal((await task(commitment)).status, TaskStatus.TASK_STATUS_QUEUED)
    await block([], t.deadline)
    assert.equal((await task(commitment)).status, TaskStatus.TASK_STATUS_QUEUED)
    await block([], t.deadline + 1n)
    const ended = await task(commitment)
    assert.deepEqual([ended.status, ended.abortReason], [TaskStatus.TASK_STATUS_END_ABORTED, AbortReason.ABORT_REASON_TIMEOUT])
    assert.equal(await balance(creator.address), before + FEE, 'full refund')
    assert.equal(await balance(moduleAddress('task')), 0n)
  })

  it('execution timeout at its exact boundary: the node is released and the creator refunded', async () => {
    await joinAll()
    const { commitment, msg } = create()
    await block([[creator, msg]])
    const t = await task(commitment)
    const node = nodes.find((n) => n.address === t.selectedNode)!
    const before = await balance(creator.address)
    await block([], t.deadline - 1n)
    await block([], t.deadline)
    assert.equal((await task(commitment)).status, TaskStatus.TASK_STATUS_STARTED)
    await block([], t.deadline + 1n)
    const ended = await task(commitment)
    assert.deepEqual([ended.status, ended.abortReason], [TaskStatus.TASK_STATUS_END_ABORTED, AbortReason.ABORT_REASON_TIMEOUT])
    assert.equal(await balance(creator.address), before + FEE)
    assert.equal(await nodeStatus(node), NodeStatus.NODE_STATUS_AVAILABLE)
  })

  it('cancel: only the creator, only while Queued, with a full refund', async () => {
    const queued = await queuedTask()
    const [notCreator] = await block([[w[7]!, cancel(queued.commitment, w[7]!)]])
    assert.deepEqual([notCreator!.codespace, notCreator!.code], ['task', 6])
    const before = await balance(creator.address)
    const [ok] = await block([[creator, cancel(queued.commitment)]])
    assert.equal(ok!.code, 0, ok!.log)
    const t = await task(queued.commitment)
    assert.deepEqual([t.status, t.abortReason], [TaskStatus.TASK_STATUS_END_ABORTED, AbortReason.ABORT_REASON_CREATOR_CANCELLED])
    assert.equal(await balance(creator.address), before + FEE - 100_000n)
    const [again] = await block([[creator, cancel(queued.commitment)]])
    assert.deepEqual([again!.codespace, again!.code], ['task', 5])
  })

  it('invalid args are refused with a message naming the field', async () => {
    await joinAll()
    for (const [args, re] of [
      ['{', /not valid JSON/],
      [image('x', { width: 100 }), /width/],
      [image('x', { bogus: 1 }), /bogus/],
    ] as const) {
      const [r] = await block([[creator, create({ args }).msg]])
      assert.deepEqual([r!.codespace, r!.code], ['task', 2], String(args))
      assert.match(r!.log!, re)
    }
  })

  it('the task module always holds exactly the fees of its open tasks', async () => {
    await joinAll([8, 8, 8, 24, 24, 24])
    const ids: Uint8Array[] = []
    const outcomes = new Set<string>()
    for (let i = 0; i < 12; i++) {
      const { commitment, msg } = create({ minVramGb: i % 3 === 1 ? 16 : 8, fee: String(1_000_000 + i), args: image(`p${i % 4}`) })
      const [r] = await block([[creator, msg]], blocks.now + 50n)
      outcomes.add(r!.code === 0 ? 'created' : `refused ${r!.code}`)
      if (r!.code === 0) ids.push(commitment)
      let open = 0n
      for (const c of ids) {
        const t = await task(c)
        outcomes.add(TaskStatus[t.status])
        if (t.status < TaskStatus.TASK_STATUS_END_INVALIDATED) open += BigInt(t.fee)
      }
      assert.equal(await balance(moduleAddress('task')), open, `after block ${i}`)
    }
    // The sequence went through creation, dispatch, timeouts and refusals.
    for (const o of ['created', 'TASK_STATUS_STARTED', 'TASK_STATUS_END_ABORTED']) assert.ok(outcomes.has(o), `${o} in ${[...outcomes]}`)
  })
})
