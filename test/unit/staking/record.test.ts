import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { toBech32 } from '@cosmjs/encoding'
import { QueryContext } from '../../../chain/context.ts'
import { MemoryStore } from '../../../chain/store/memory.ts'
import { moduleAddress } from '../../../modules/auth/index.ts'
import { berylModules } from '../../../modules/index.ts'
import { QueryNodeRecordRequest, QueryNodeRecordResponse } from '../../../proto/gen/beryl/staking/v1/query.ts'
import type { NodeRecord } from '../../../proto/gen/beryl/staking/v1/types.ts'
import { TaskStatus } from '../../../proto/gen/beryl/task/v1/types.ts'
import type { Wallet } from '../../helpers/chain.ts'
import { CHEAT, HONEST, MODEL, STAKE, T0, chain, sha } from '../task/chain.ts'
import { deliverContext } from '../../helpers/context.ts'

const RECORD_PATH = '/beryl.staking.v1.Query/NodeRecord'
const JOIN = (who: Wallet) => ({
  typeUrl: '/beryl.staking.v1.MsgJoin',
  value: { address: who.address, gpuName: 'NVIDIA GeForce RTX 4090', gpuVramGb: 24, runnerVersion: '1.0.0', modelIds: [MODEL], stake: STAKE.toString() },
})

describe('staking: node records (earnings, slashes, kick-outs) outlive the node', function () {
  this.timeout(120_000)

  describe('a paid task (unsampled chain, 2.5% protocol fee share)', () => {
    const c = chain({ min_sampling_rate: '0', protocol_fee_share: (25n * 10n ** 15n).toString() })
    const record = async (address: string): Promise<NodeRecord | undefined> => {
      const r = await c.query(RECORD_PATH, QueryNodeRecordRequest.encode({ address }).finish())
      return r.code === 0 ? QueryNodeRecordResponse.decode(r.value!).record : undefined
    }

    it('a joined node has an empty record with first_joined_at; an unknown address is NotFound', async () => {
      const r = await record(c.env.nodes[0]!.address)
      assert.ok(r)
      assert.deepEqual(
        [r.address, r.earned, r.tasksPaid, r.slashCount, r.slashedAmount, r.kickedOutTime, r.firstJoinedAt],
        [c.env.nodes[0]!.address, '0', 0n, 0, '0', 0n, T0 + 2n /* the join block */],
      )
      const unknown = await c.query(RECORD_PATH, QueryNodeRecordRequest.encode({ address: c.env.creator.address }).finish())
      assert.deepEqual([unknown.codespace, unknown.code], ['sdk', 22])
      assert.match(unknown.log!, /code = NotFound desc = node record .* not found/)
      const bad = await c.query(RECORD_PATH, QueryNodeRecordRequest.encode({ address: 'not-an-address' }).finish())
      assert.notEqual(bad.code, 0)
    })

    it('create → score → validate → attest: earned is the exact net payment, tasks_paid 1', async () => {
      const taskId = sha(Buffer.from('record task'))
      const FEE = 1001n
      const { commitment, msg } = c.createMsg(taskId, 'r1', FEE)
      const [created] = await c.run([[c.env.creator, msg]])
      assert.equal(created!.code, 0, created!.log)
      const started = await c.task(commitment)
      assert.equal(started.status, TaskStatus.TASK_STATUS_STARTED)
      const node = c.nodeOf(started)
      const [s] = await c.run([c.score(started, HONEST)])
      assert.equal(s!.code, 0, s!.log)
      const [v] = await c.run([await c.validateMsg([commitment], taskId)])
      assert.equal(v!.code, 0, v!.log)
      const before = await c.balance(node.address)
      const collectorBefore = await c.balance(moduleAddress('fee_collector'))
      const [a] = await c.run([c.attest(commitment)])
      assert.equal(a!.code, 0, a!.log)
      assert.equal((await c.task(commitment)).status, TaskStatus.TASK_STATUS_END_SUCCESS)
      // 2.5 % of 1001 = 25.025 → 25 to the protocol (the fee collector, which pays the validators: at the start of
      // each block it pays out what it held, here the validation's tx fee, and then collects this block's: the
      // attestation's own 100 000 uberyl tx fee and the 25), 976 to the node.
      assert.equal(collectorBefore, 100_000n)
      assert.equal(await c.balance(node.address), before + 976n)
      assert.equal(await c.balance(moduleAddress('fee_collector')), 25n + 100_000n)
      const r = await record(node.address)
      assert.equal(r?.earned, '976')
      assert.equal(r?.tasksPaid, 1n)
      assert.equal(r?.slashCount, 0)
      for (const other of c.env.nodes.filter((n) => n.address !== node.address)) {
        assert.deepEqual([(await record(other.address))?.earned, (await record(other.address))?.tasksPaid], ['0', 0n])
      }
    })
  })

  describe('a slashed node (every task sampled)', () => {
    const c = chain({ min_sampling_rate: '1000000000000000000' })
    const FEE = 1_700_003n
    const record = async (address: string): Promise<NodeRecord | undefined> => {
      const r = await c.query(RECORD_PATH, QueryNodeRecordRequest.encode({ address }).finish())
      return r.code === 0 ? QueryNodeRecordResponse.decode(r.value!).record : undefined
    }

    it('keeps slash_count, the amount taken, the reason and the task after the node is gone; group payees record their shares', async () => {
      const { members: tasks, reveals } = await c.runGroup('record group', (i) => (i === 1 ? CHEAT : HONEST), FEE)
      const cheater = c.nodeOf(tasks[1]!)
      const v = reveals.find((r) => r.events!.some((e) => e.type === 'node_slashed'))
      assert.ok(v, 'a reveal completed the group and slashed')
      assert.equal(await c.nodeExists(cheater.address), false, 'the node is removed')
      const slash = v!.events!.find((e) => e.type === 'node_slashed')!
      const attr = (k: string) => slash.attributes.find((x) => x.key === k)?.value
      const r = await record(cheater.address)
      assert.ok(r, 'the record outlives the node')
      assert.equal(r.slashCount, 1)
      assert.equal(r.slashedAmount, STAKE.toString(), '100% of its stake')
      assert.equal(r.lastSlashTime, c.env.now)
      assert.equal(r.lastSlashTask, Buffer.from(tasks[1]!.taskIdCommitment).toString('hex'))
      assert.equal(r.lastSlashTask, attr('task'))
      assert.ok(r.lastSlashReason.length > 0)
      assert.equal(r.lastSlashReason, attr('reason'))
      assert.ok(r.firstJoinedAt > 0n && r.firstJoinedAt <= tasks[1]!.startTime)
      assert.deepEqual([r.earned, r.tasksPaid], ['0', 0n])

      // Each honest member is paid its own fee (docs/decisions/0025): the matching seat when the group was judged,
      // the representative when its result is attested.
      const honest = [c.nodeOf(tasks[0]!).address, c.nodeOf(tasks[2]!).address]
      const seat = (await record(honest[1]!))!
      assert.deepEqual([seat.earned, seat.tasksPaid], [FEE.toString(), 1n], 'the matching seat was paid at the judgement')
      const before = await Promise.all(honest.map((n) => c.balance(n)))
      const [a] = await c.run([c.attest(tasks[0]!.taskIdCommitment)])
      assert.equal(a!.code, 0, a!.log)
      const gained = await Promise.all(honest.map(async (n, i) => (await c.balance(n)) - before[i]!))
      assert.deepEqual(gained, [FEE, 0n])
      for (const [i, n] of honest.entries()) {
        const rec = (await record(n))!
        assert.deepEqual([rec.earned, rec.tasksPaid], [FEE.toString(), 1n], `member ${i}`)
      }
    })

    it('a slashed address may rejoin only after the cooldown, and keeps its history (first_joined_at unchanged)', async () => {
      const { members: tasks } = await c.runGroup('record rejoin', (i) => (i === 0 ? CHEAT : HONEST), FEE)
      const cheater = c.nodeOf(tasks[0]!)
      const joinedAt = (await record(cheater.address))!.firstJoinedAt
      assert.equal(await c.nodeExists(cheater.address), false)
      const slashed = (await record(cheater.address))!
      // A slashed address may rejoin only after the cooldown (a fresh stake cannot undo the slash at once).
      const [early] = await c.run([[cheater, JOIN(cheater)]], c.env.now + 100n)
      assert.deepEqual([early!.codespace, early!.code], ['staking', 9], early!.log)
      assert.match(early!.log!, /may join from/)
      const [j] = await c.run([[cheater, JOIN(cheater)]], slashed.lastSlashTime + 604_800n)
      assert.equal(j!.code, 0, j!.log)
      assert.equal(await c.nodeExists(cheater.address), true, 'rejoined')
      const r = (await record(cheater.address))!
      assert.deepEqual(r, slashed, 'nothing in the record changes on a rejoin')
      assert.equal(r.firstJoinedAt, joinedAt)
      assert.equal(r.slashCount, 1)
    })
  })

  describe('a kicked-out node (keeper level, memory store)', () => {
    const store = new MemoryStore()
    const { keepers, modules } = berylModules()
    let now = 1_700_000_000n
    const ctx = (t = now) => deliverContext(store, t)
    const addr = (i: number) => toBech32('beryl', createHash('sha256').update(`record node ${i}`).digest().subarray(0, 20))
    const route = modules.find((m) => m.name === 'staking')!.queries!.find((q) => q.path === RECORD_PATH)!
    const query = async (address: string) => route.handle(new QueryContext(store, 1n, 'x', now), QueryNodeRecordRequest.encode({ address }).finish())

    before(() => {
      for (let i = 0; i < 4; i++) {
        keepers.bank.initBalance(ctx(), addr(i), [{ denom: 'uberyl', amount: 1_000_000_000n }])
        keepers.staking.join(ctx(), {
          address: addr(i),
          gpuName: 'NVIDIA GeForce RTX 4090',
          gpuVramGb: 24,
          runnerVersion: '1.0.0',
          modelIds: [MODEL],
          stake: STAKE.toString(),
        })
      }
    })

    it('a QoS kick-out sets kicked_out_time and kicked_out_reason; the record stays after the node is removed', async () => {
      now += 50n
      for (let i = 0; i < 50; i++) keepers.qos.recordScore(ctx(), addr(3), 0n)
      assert.equal(keepers.staking.getNode(ctx(), addr(3)), undefined, 'kicked out')
      const r = keepers.staking.getRecord(ctx(), addr(3))!
      assert.equal(r.kickedOutTime, now)
      assert.match(r.kickedOutReason, /below 2\.0 over 50 tasks/)
      assert.equal(r.firstJoinedAt, 1_700_000_000n)
      assert.equal(r.slashCount, 0)
      // Through the module's query route as well.
      assert.deepEqual(QueryNodeRecordResponse.decode(await query(addr(3))).record, r)
    })

    it('the query route answers NotFound for an address that never joined', async () => {
      await assert.rejects(query(addr(9)), (err: Error & { code?: number; codespace?: string }) => {
        assert.deepEqual([err.codespace, err.code], ['sdk', 22])
        assert.match(err.message, /NotFound/)
        return true
      })
    })

    it('recordEarning accumulates; slash takes reason and task from the evidence keys', () => {
      now += 10n
      keepers.staking.recordEarning(ctx(), addr(0), 5n)
      keepers.staking.recordEarning(ctx(), addr(0), 7n)
      const taken = keepers.staking.slash(ctx(), addr(0), {
        task: 'ab12',
        reason: 'invalidated',
        score: '00',
        groupTasks: [],
        groupScores: [],
        resultHashes: [],
      })
      now += 604_800n // the rejoin cooldown
      keepers.staking.join(ctx(), {
        address: addr(0),
        gpuName: 'NVIDIA GeForce RTX 4090',
        gpuVramGb: 24,
        runnerVersion: '1.0.0',
        modelIds: [MODEL],
        stake: STAKE.toString(),
      })
      keepers.staking.slash(ctx(), addr(0), { task: '', reason: '', score: '', groupTasks: [], groupScores: [], resultHashes: [] })
      const r = keepers.staking.getRecord(ctx(), addr(0))!
      assert.deepEqual(
        [r.earned, r.tasksPaid, r.slashCount, r.slashedAmount, r.lastSlashTime, r.lastSlashReason, r.lastSlashTask, r.firstJoinedAt],
        ['12', 2n, 2, (2n * taken).toString(), now, '', '', 1_700_000_000n],
      )
      // A record for a payment to an address that has none yet is created on the spot.
      keepers.staking.recordEarning(ctx(), addr(7), 3n)
      const fresh = keepers.staking.getRecord(ctx(), addr(7))!
      assert.deepEqual([fresh.address, fresh.earned, fresh.tasksPaid, fresh.firstJoinedAt], [addr(7), '3', 1n, 0n])
    })
  })
})
