import assert from 'node:assert/strict'
import { QueryBalanceRequest, QueryBalanceResponse, QueryTotalSupplyResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query'
import { decodeBech32 } from '../../../chain/tx/crypto.ts'
import { moduleAddress } from '../../../modules/auth/index.ts'
import { berylModules } from '../../../modules/index.ts'
import { ecvrfProve } from '../../../modules/vss/ecvrf.ts'
import { TaskStatus, type Task } from '../../../proto/gen/beryl/task/v1/types.ts'
import type { Wallet } from '../../helpers/chain.ts'
import { prng } from '../../helpers/prng.ts'
import { CHEAT, HONEST, STAKE, VRF_SK, chain, sha } from './chain.ts'

const { keepers } = berylModules()
/** answer_hold (s), its default: a committed answer waiting for its creator counts this long (docs/decisions/0026). */
const ANSWER_HOLD = 30n

describe('task invariants over a randomized multi-block run', function () {
  this.timeout(180_000)
  // A third of the tasks are sampled: groups, seats, reveals and their timeouts are part of the walk.
  const c = chain({ min_sampling_rate: '300000000000000000' })
  const ENDED = new Set([7, 8, 9, 10, 11])

  it('after every block: supply conserved, escrow = open fees, no node in two running tasks, every unjudged first-task answer counted, those judged within their hold backed by stake', async () => {
    const rnd = prng(20261121).float
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!
    const accounts = [
      ...c.env.w.map((w) => w.address),
      ...['staking', 'task', 'fee_collector', 'community_pool', 'validator', 'distribution'].map(moduleAddress),
    ]
    const q = async (path: string, data: Uint8Array) => (await c.query(path, data)).value!
    const supply = async () => BigInt(QueryTotalSupplyResponse.decode(await q('/cosmos.bank.v1beta1.Query/TotalSupply', new Uint8Array())).supply[0]!.amount)
    const bal = async (a: string) =>
      BigInt(
        QueryBalanceResponse.decode(await q('/cosmos.bank.v1beta1.Query/Balance', QueryBalanceRequest.encode({ address: a, denom: 'uberyl' }).finish()))
          .balance!.amount,
      )
    // Half the nodes bond a second min_stake, so some hold two unjudged answers at once (docs/decisions/0024).
    const added = await c.run(
      c.env.nodes
        .filter((_, i) => i % 2 === 0)
        .map((n) => [n, { typeUrl: '/beryl.staking.v1.MsgAddStake', value: { address: n.address, amount: STAKE.toString() } }] as [Wallet, unknown]),
    )
    assert.ok(added.every((r) => r.code === 0))
    const initialSupply = await supply()
    let maxUnjudged = 0n
    const lateRecounts = new Set<string>()
    const ids: { id: Uint8Array; commitment: Uint8Array }[] = []
    const seen = new Set<number>()
    let created = 0
    for (let block = 0; block < 60; block++) {
      const txs: Array<[Wallet, unknown]> = []
      const roots: Task[] = await Promise.all(ids.map((x) => c.task(x.commitment)))
      const seats = (await Promise.all(roots.flatMap((r) => r.validationTasks.map((v) => c.task(v))))).filter((t) => !ENDED.has(t.status))
      // The creator makes 0–2 tasks.
      const creating: { id: Uint8Array; commitment: Uint8Array }[] = []
      for (let k = Math.floor(rnd() * 3); k > 0; k--) {
        const id = sha(Buffer.from(`task ${created++}`))
        const m = c.createMsg(id, `n${created}`, BigInt(1 + Math.floor(rnd() * 5_000_000)), JSON.stringify({ prompt: `p${Math.floor(rnd() * 4)}` }))
        creating.push({ id, commitment: m.commitment })
        txs.push([c.env.creator, m.msg])
      }
      const answered = new Set<string>()
      for (const t of [...roots, ...seats]) {
        const r = rnd()
        const key = Buffer.from(t.taskIdCommitment).toString('hex')
        if (t.status === TaskStatus.TASK_STATUS_STARTED) {
          if (r < 0.6) txs.push(c.score(t, rnd() < 0.1 ? CHEAT : rnd() < 0.1 ? 'error' : HONEST))
        } else if (t.revealStart && t.salt.length === 0 && !ENDED.has(t.status) && r < 0.7 && c.answers.has(key)) {
          txs.push(c.reveal(t))
        } else if (t.status === TaskStatus.TASK_STATUS_SCORE_READY && !t.validationOf.length && r < 0.6 && !answered.has(key)) {
          answered.add(key)
          const i = ids.findIndex((x) => Buffer.compare(x.commitment, t.taskIdCommitment) === 0)
          txs.push([
            c.env.creator,
            {
              typeUrl: '/beryl.task.v1.MsgValidateTask',
              value: {
                creator: c.env.creator.address,
                taskIdCommitments: [t.taskIdCommitment],
                taskId: ids[i]!.id,
                vrfProof: ecvrfProve(VRF_SK, t.samplingSeed),
              },
            },
          ])
        } else if (t.status === TaskStatus.TASK_STATUS_VALIDATED && r < 0.6) {
          txs.push(c.answers.get(key)!.score.length ? c.attest(t.taskIdCommitment) : c.reveal(t))
        } else if (t.status === TaskStatus.TASK_STATUS_GROUP_VALIDATED && r < 0.6) {
          txs.push(c.attest(t.taskIdCommitment))
        }
      }
      if (rnd() < 0.05) {
        const n = pick(c.env.nodes)
        txs.push([n, { typeUrl: pick(['/beryl.staking.v1.MsgPause', '/beryl.staking.v1.MsgResume']), value: { address: n.address } }])
      }
      // Let time pass unevenly so every kind of deadline is crossed.
      const results = await c.run(txs, c.env.now + BigInt(1 + Math.floor(rnd() * (rnd() < 0.1 ? 900 : 60))))
      // Creation is refused while fewer than 3 nodes are free: keep the tasks the chain accepted.
      creating.forEach((x, k) => {
        if (results[k]!.code === 0) ids.push(x)
        else seen.add(-results[k]!.code)
      })

      const afterRoots = await Promise.all(ids.map((x) => c.task(x.commitment)))
      const after = [...afterRoots, ...(await Promise.all(afterRoots.flatMap((r) => r.validationTasks.map((v) => c.task(v)))))]
      // Seats replaced after a timeout are no longer listed on their T1; they ended (and settled) then.
      for (const t of after) seen.add(t.status)
      assert.equal(await supply(), initialSupply, `supply at block ${block}`)
      const total = (await Promise.all(accounts.map(bal))).reduce((a, b) => a + b, 0n)
      assert.equal(total, initialSupply, `balances add up to the supply at block ${block}`)
      const open = after.filter((t) => !ENDED.has(t.status)).reduce((a, t) => a + BigInt(t.fee), 0n)
      assert.equal(await bal(moduleAddress('task')), open, `escrow at block ${block}`)
      const running = after.filter((t) => t.status === TaskStatus.TASK_STATUS_STARTED).map((t) => t.selectedNode)
      assert.equal(new Set(running).size, running.length, `no node in two running tasks at block ${block}`)
      // Collateral (docs/decisions/0024, 0026): each node's count is its first tasks holding an unjudged answer: a
      // group running, or a commitment waiting for its creator no longer than answer_hold (its hold ends in the first
      // block past it). Its stake backs each, except answers validated after their hold (counted again, not backed).
      const ctx = c.env.app.queryContext()
      const holdEnd = (t: Task) => t.scoreReadyTime + ANSWER_HOLD
      for (const n of c.env.nodes) {
        const mine = after.filter((t) => t.selectedNode === n.address && !t.validationOf.length)
        const waiting = mine.filter((t) => t.status === TaskStatus.TASK_STATUS_SCORE_READY && c.env.now <= holdEnd(t))
        const judging = mine.filter((t) => t.status === TaskStatus.TASK_STATUS_GROUP_PENDING)
        const late = judging.filter((t) => t.validatedTime > holdEnd(t))
        for (const t of late) lateRecounts.add(Buffer.from(t.taskIdCommitment).toString('hex'))
        const count = keepers.task.unjudgedAnswers(ctx, decodeBech32(n.address).data)
        assert.equal(count, BigInt(waiting.length + judging.length), `unjudged answers of ${n.address} at block ${block}`)
        if (count > maxUnjudged) maxUnjudged = count
        const backed = count - BigInt(late.length)
        const node = keepers.staking.getNode(ctx, n.address)
        if (node)
          assert.ok(
            BigInt(node.stake) >= backed * STAKE,
            `the stake of ${n.address} backs its ${backed} unjudged answers judged within their hold at block ${block}`,
          )
      }
    }
    // The walk reached the interesting states.
    assert.ok(maxUnjudged >= 2n, 'a node with two min_stakes held two unjudged answers')
    assert.ok(lateRecounts.size > 0, 'an answer validated after its hold was counted again while its group ran')
    for (const s of [
      TaskStatus.TASK_STATUS_STARTED,
      TaskStatus.TASK_STATUS_SCORE_READY,
      TaskStatus.TASK_STATUS_END_SUCCESS,
      TaskStatus.TASK_STATUS_END_ABORTED,
      TaskStatus.TASK_STATUS_GROUP_PENDING,
      TaskStatus.TASK_STATUS_END_GROUP_SUCCESS,
    ]) {
      assert.ok(seen.has(s), `reached ${TaskStatus[s]}`)
    }
  })
})
