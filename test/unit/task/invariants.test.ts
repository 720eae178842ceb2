import assert from 'node:assert/strict'
import { QueryBalanceRequest, QueryBalanceResponse, QueryTotalSupplyResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query'
import { moduleAddress } from '../../../modules/auth/index.ts'
import { isSelectedForValidation } from '../../../modules/vss/sampling.ts'
import { ecvrfProofToHash, ecvrfProve } from '../../../modules/vss/ecvrf.ts'
import { TaskStatus, type Task } from '../../../proto/gen/beryl/task/v1/types.ts'
import type { Wallet } from '../../helpers/chain.ts'
import { prng } from '../../helpers/prng.ts'
import { CHEAT, HONEST, VRF_SK, chain, sha } from './chain.ts'

describe('task invariants over a randomized multi-block run', function () {
  this.timeout(180_000)
  const c = chain({ min_sampling_rate: '0' })

  it('after every block: supply conserved, escrow = open fees, no node in two running tasks', async () => {
    const rnd = prng(20261121).float
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!
    const accounts = [...c.env.w.map((w) => w.address), ...['staking', 'task', 'fee_collector', 'community_pool'].map(moduleAddress)]
    const q = async (path: string, data: Uint8Array) => (await c.query(path, data)).value!
    const supply = async () => BigInt(QueryTotalSupplyResponse.decode(await q('/cosmos.bank.v1beta1.Query/TotalSupply', new Uint8Array())).supply[0]!.amount)
    const bal = async (a: string) =>
      BigInt(
        QueryBalanceResponse.decode(await q('/cosmos.bank.v1beta1.Query/Balance', QueryBalanceRequest.encode({ address: a, denom: 'uberyl' }).finish()))
          .balance!.amount,
      )
    const initialSupply = await supply()
    const ids: { id: Uint8Array; commitment: Uint8Array }[] = []
    const seen = new Set<number>()
    let created = 0
    for (let block = 0; block < 60; block++) {
      const txs: Array<[Wallet, unknown]> = []
      const tasks: Task[] = await Promise.all(ids.map((x) => c.task(x.commitment)))
      // The creator makes 0–2 tasks; a few argument sets repeat, so the group window matters.
      const creating: { id: Uint8Array; commitment: Uint8Array }[] = []
      for (let k = Math.floor(rnd() * 3); k > 0; k--) {
        const id = sha(Buffer.from(`task ${created++}`))
        const m = c.createMsg(id, `n${created}`, BigInt(1 + Math.floor(rnd() * 5_000_000)), JSON.stringify({ prompt: `p${Math.floor(rnd() * 4)}` }))
        creating.push({ id, commitment: m.commitment })
        txs.push([c.env.creator, m.msg])
      }
      for (let i = 0; i < tasks.length; i++) {
        const t = tasks[i]!
        const r = rnd()
        if (t.status === TaskStatus.TASK_STATUS_STARTED) {
          if (r < 0.6) txs.push(c.score(t, rnd() < 0.1 ? CHEAT : HONEST))
          else if (r < 0.7)
            txs.push([
              c.nodeOf(t),
              { typeUrl: '/beryl.task.v1.MsgReportError', value: { node: t.selectedNode, taskIdCommitment: t.taskIdCommitment, error: 1 } },
            ])
        } else if ((t.status === TaskStatus.TASK_STATUS_SCORE_READY || t.status === TaskStatus.TASK_STATUS_ERROR_REPORTED) && r < 0.6) {
          // With no rate floor and fees of a few BERYL at most, r < 2% is tiny but not zero: validate
          // alone only what the VRF did not select (a selected task then waits for its validation timeout).
          const proof = ecvrfProve(VRF_SK, t.samplingSeed)
          if (!isSelectedForValidation(ecvrfProofToHash(proof)!, BigInt(t.samplingRate))) {
            txs.push([
              c.env.creator,
              {
                typeUrl: '/beryl.task.v1.MsgValidateTask',
                value: { creator: c.env.creator.address, taskIdCommitments: [t.taskIdCommitment], taskId: ids[i]!.id, vrfProof: proof },
              },
            ])
          }
        } else if (t.status === TaskStatus.TASK_STATUS_VALIDATED && r < 0.6) {
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

      const after = await Promise.all(ids.map((x) => c.task(x.commitment)))
      for (const t of after) seen.add(t.status)
      assert.equal(await supply(), initialSupply, `supply at block ${block}`)
      const total = (await Promise.all(accounts.map(bal))).reduce((a, b) => a + b, 0n)
      assert.equal(total, initialSupply, `balances add up to the supply at block ${block}`)
      const open = after.filter((t) => t.status < TaskStatus.TASK_STATUS_END_INVALIDATED).reduce((a, t) => a + BigInt(t.fee), 0n)
      assert.equal(await bal(moduleAddress('task')), open, `escrow at block ${block}`)
      const running = after.filter((t) => t.status === TaskStatus.TASK_STATUS_STARTED).map((t) => t.selectedNode)
      assert.equal(new Set(running).size, running.length, `no node in two running tasks at block ${block}`)
    }
    // The walk reached the interesting states.
    for (const s of [
      TaskStatus.TASK_STATUS_STARTED,
      TaskStatus.TASK_STATUS_SCORE_READY,
      TaskStatus.TASK_STATUS_END_SUCCESS,
      TaskStatus.TASK_STATUS_END_ABORTED,
    ]) {
      assert.ok(seen.has(s), `reached ${TaskStatus[s]}`)
    }
  })
})
