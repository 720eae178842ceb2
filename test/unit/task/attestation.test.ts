// Results attested by the bonded validator set (docs/decisions/0023): a task settles only when validators
// holding at least 2/3 of the bonded power attested the same result hash. One `it` per rule, and one per
// attack on it, named after the attack.
import assert from 'node:assert/strict'
import { moduleAddress } from '../../../modules/auth/index.ts'
import { AbortReason, TaskStatus, type Task } from '../../../proto/gen/beryl/task/v1/types.ts'
import type { Wallet } from '../../helpers/chain.ts'
import { HONEST, POWER, chain, sha } from './chain.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const WRONG = new Uint8Array(32).fill(0xee)
const OTHER = new Uint8Array(32).fill(0x77)
type TxResult = { code: number; log?: string; events?: Array<{ type: string; attributes?: Array<{ key: string; value: string }> }> }
const attr = (r: TxResult, type: string, key: string) => r.events?.find((e) => e.type === type)?.attributes?.find((a) => a.key === key)?.value

describe('task attestation by the validator set: ≥ 2/3 of the bonded power settles a result hash', function () {
  this.timeout(300_000)

  /** A task of the chain `c` brought to Validated (waiting for its output), with its node's honest answer committed. */
  async function validated(c: ReturnType<typeof chain>, tag: string): Promise<Task> {
    const taskId = sha(Buffer.from(tag))
    const { commitment, msg } = c.createMsg(taskId, tag, 1n)
    const [created] = await c.run([[c.env.creator, msg]])
    assert.equal(created!.code, 0, created!.log)
    const [s] = await c.run([c.score(await c.task(commitment), HONEST)])
    assert.equal(s!.code, 0, s!.log)
    const [v] = await c.run([await c.validateMsg([commitment], taskId)])
    assert.equal(v!.code, 0, v!.log)
    const t = await c.task(commitment)
    assert.equal(t.status, TaskStatus.TASK_STATUS_VALIDATED)
    return t
  }
  const attestations = (t: Task) => t.attestations.map((a) => [a.validator, hex(a.resultHash)])

  describe('four validators of equal power (100 each)', () => {
    const c = chain({ min_sampling_rate: '0' }, 6, [100n, 100n, 100n, 100n])
    const v = (i: number): Wallet => c.env.validators[i]!

    it('two of four (50 %) do not settle; the third (75 %) does, and the settlement event names the three', async () => {
      const t = await validated(c, 'three of four')
      const node = c.nodeOf(t)
      const before = await c.balance(node.address)
      const first = await c.run([c.attest(t.taskIdCommitment, undefined, v(0)), c.attest(t.taskIdCommitment, undefined, v(1))])
      assert.deepEqual(
        first.map((r) => r.code),
        [0, 0],
        first.map((r) => r.log).join(' | '),
      )
      const half = await c.task(t.taskIdCommitment)
      assert.equal(half.status, TaskStatus.TASK_STATUS_VALIDATED, '200 of 400 is below 2/3')
      assert.deepEqual(attestations(half), [
        [v(0).address, hex(c.RESULT_HASH)],
        [v(1).address, hex(c.RESULT_HASH)],
      ])
      const [third] = await c.run([c.attest(t.taskIdCommitment, undefined, v(2))])
      assert.equal(third!.code, 0, third!.log)
      const ended = await c.task(t.taskIdCommitment)
      assert.equal(ended.status, TaskStatus.TASK_STATUS_END_SUCCESS)
      assert.equal(hex(ended.resultHash), hex(c.RESULT_HASH))
      assert.equal(hex(ended.score), hex(HONEST), 'the attestation revealed the score')
      assert.equal(await c.balance(node.address), before + 1n, 'the node is paid')
      assert.equal(
        attr(third!, 'result_settled', 'validators'),
        [v(0), v(1), v(2)]
          .map((x) => x.address)
          .sort()
          .join(','),
      )
      assert.deepEqual([attr(third!, 'result_settled', 'power'), attr(third!, 'result_settled', 'total_power')], ['300', '400'])
      // The fourth, late, validator finds the task settled: its attestation is recorded and changes nothing else
      // (no second payment, no second settlement); a late one cannot change its hash either.
      const [late] = await c.run([c.attest(t.taskIdCommitment, undefined, v(3))])
      assert.equal(late!.code, 0, late!.log)
      assert.equal(attr(late!, 'result_attested', 'late'), 'true')
      assert.equal(attr(late!, 'result_settled', 'validators'), undefined)
      const after = await c.task(t.taskIdCommitment)
      assert.equal(after.status, TaskStatus.TASK_STATUS_END_SUCCESS)
      assert.deepEqual(attestations(after).slice(3), [[v(3).address, hex(c.RESULT_HASH)]])
      assert.equal(await c.balance(node.address), before + 1n, 'paid once')
      const [again] = await c.run([c.attest(t.taskIdCommitment, undefined, v(3), WRONG)])
      assert.equal(again!.code, 15, again!.log)
    })

    it('attack: a lone validator attesting a wrong hash cannot settle, and its attestation is visible in the task query', async () => {
      const t = await validated(c, 'lone wrong hash')
      const [wrong] = await c.run([c.attest(t.taskIdCommitment, undefined, v(0), WRONG)])
      assert.equal(wrong!.code, 0, 'recorded, not refused: the chain cannot tell which output is the right one')
      const after = await c.task(t.taskIdCommitment)
      assert.equal(after.status, TaskStatus.TASK_STATUS_VALIDATED)
      assert.equal(after.resultHash.length, 0)
      assert.deepEqual(attestations(after), [[v(0).address, hex(WRONG)]])
      // The three honest validators settle the honest hash; the wrong attestation stays on record.
      await c.run([1, 2, 3].map((i) => c.attest(t.taskIdCommitment, undefined, v(i))))
      const ended = await c.task(t.taskIdCommitment)
      assert.equal(ended.status, TaskStatus.TASK_STATUS_END_SUCCESS)
      assert.equal(hex(ended.resultHash), hex(c.RESULT_HASH))
      assert.deepEqual(attestations(ended)[0], [v(0).address, hex(WRONG)])
      assert.equal(ended.attestations.length, 4)
    })

    it('attack: two different hashes, each attested by validators with less than 2/3, settle nothing; the upload timeout refunds', async () => {
      const t = await validated(c, 'split vote')
      const rs = await c.run([
        c.attest(t.taskIdCommitment, undefined, v(0)),
        c.attest(t.taskIdCommitment, undefined, v(1)),
        c.attest(t.taskIdCommitment, undefined, v(2), OTHER),
        c.attest(t.taskIdCommitment, undefined, v(3), OTHER),
      ])
      assert.deepEqual(
        rs.map((r) => r.code),
        [0, 0, 0, 0],
      )
      assert.ok(rs.every((r) => attr(r, 'result_settled', 'task') === undefined))
      const open = await c.task(t.taskIdCommitment)
      assert.equal(open.status, TaskStatus.TASK_STATUS_VALIDATED)
      assert.equal(open.attestations.length, 4)
      const before = await c.balance(c.env.creator.address)
      await c.run([], open.deadline + 1n)
      const ended = await c.task(t.taskIdCommitment)
      assert.deepEqual([ended.status, ended.abortReason], [TaskStatus.TASK_STATUS_END_ABORTED, AbortReason.ABORT_REASON_RESULT_UPLOAD_TIMEOUT])
      assert.equal(await c.balance(c.env.creator.address), before + 1n)
      assert.equal(await c.balance(moduleAddress('task')), 0n)
    })

    it('attack: an attestation from an account outside the bonded set (the creator, the node, a funded stranger) is refused', async () => {
      const t = await validated(c, 'outsider')
      for (const outsider of [c.env.creator, c.nodeOf(t), c.env.nodes.find((n) => n.address !== t.selectedNode)!]) {
        const [r] = await c.run([c.attest(t.taskIdCommitment, undefined, outsider)])
        assert.equal(r!.code, 12, r!.log)
        assert.match(r!.log!, /not in the bonded validator set/)
      }
      assert.deepEqual((await c.task(t.taskIdCommitment)).attestations, [])
    })

    it('attack: a validator attesting twice counts once (the same hash again changes nothing), and cannot change its hash', async () => {
      const t = await validated(c, 'double attestation')
      const [a] = await c.run([c.attest(t.taskIdCommitment, undefined, v(0))])
      const [again] = await c.run([c.attest(t.taskIdCommitment, undefined, v(0))])
      assert.deepEqual([a!.code, again!.code], [0, 0], again!.log)
      const [flip] = await c.run([c.attest(t.taskIdCommitment, undefined, v(0), OTHER)])
      assert.equal(flip!.code, 15, flip!.log)
      // Two attestations of v1 in one transaction.
      const [twice] = await c.run([[v(1), [c.attest(t.taskIdCommitment, undefined, v(1))[1], c.attest(t.taskIdCommitment, undefined, v(1))[1]]]])
      assert.equal(twice!.code, 0, twice!.log)
      const after = await c.task(t.taskIdCommitment)
      assert.equal(after.status, TaskStatus.TASK_STATUS_VALIDATED, 'two validators, however many times they attest, hold 50 %')
      assert.deepEqual(attestations(after), [
        [v(0).address, hex(c.RESULT_HASH)],
        [v(1).address, hex(c.RESULT_HASH)],
      ])
    })

    it('attack: an attestation before the upload stage (running, committed, not yet validated) is refused', async () => {
      const taskId = sha(Buffer.from('too early'))
      const { commitment, msg } = c.createMsg(taskId, 'too early', 1n)
      await c.run([[c.env.creator, msg]])
      const running = await c.task(commitment)
      assert.equal(running.status, TaskStatus.TASK_STATUS_STARTED)
      const [r1] = await c.run([c.attest(commitment, { score: HONEST, salt: sha(Buffer.from('salt'), commitment) }, v(0))])
      assert.equal(r1!.code, 5, r1!.log)
      await c.run([c.score(running, HONEST)])
      assert.equal((await c.task(commitment)).status, TaskStatus.TASK_STATUS_SCORE_READY)
      const all = await c.run([0, 1, 2, 3].map((i) => c.attest(commitment, undefined, v(i))))
      assert.deepEqual(
        all.map((r) => r.code),
        [5, 5, 5, 5],
      )
      const t = await c.task(commitment)
      assert.equal(t.status, TaskStatus.TASK_STATUS_SCORE_READY)
      assert.deepEqual(t.attestations, [])
    })

    it("an attestation must still open the node's commitment: a validator revealing another score is refused", async () => {
      const t = await validated(c, 'bad reveal')
      const [r] = await c.run([c.attest(t.taskIdCommitment, { score: HONEST.map((b) => b ^ 1), salt: sha(Buffer.from('salt'), t.taskIdCommitment) }, v(0))])
      assert.equal(r!.code, 14, r!.log)
      assert.deepEqual((await c.task(t.taskIdCommitment)).attestations, [])
    })

    it('power is counted when an attestation lands: after a silent validator leaves the set, the same attestation again settles', async () => {
      const t = await validated(c, 'set change')
      await c.run([c.attest(t.taskIdCommitment, undefined, v(0)), c.attest(t.taskIdCommitment, undefined, v(1))])
      assert.equal((await c.task(t.taskIdCommitment)).status, TaskStatus.TASK_STATUS_VALIDATED)
      // v3 unbonds its whole bond: the active set (from the next block) is v0, v1, v2; 200 of 300 is 2/3.
      const [u] = await c.run([[v(3), { typeUrl: '/beryl.validator.v1.MsgUnbond', value: { account: v(3).address, amount: (100n * POWER).toString() } }]])
      assert.equal(u!.code, 0, u!.log)
      assert.equal((await c.task(t.taskIdCommitment)).status, TaskStatus.TASK_STATUS_VALIDATED, 'nothing recounts by itself')
      const [again] = await c.run([c.attest(t.taskIdCommitment, undefined, v(0))])
      assert.equal(again!.code, 0, again!.log)
      assert.equal((await c.task(t.taskIdCommitment)).status, TaskStatus.TASK_STATUS_END_SUCCESS)
      assert.deepEqual([attr(again!, 'result_settled', 'power'), attr(again!, 'result_settled', 'total_power')], ['200', '300'])
      // A validator that left cannot attest.
      const next = await validated(c, 'after leaving')
      const [gone] = await c.run([c.attest(next.taskIdCommitment, undefined, v(3))])
      assert.equal(gone!.code, 12, gone!.log)
    })
  })

  describe('validators of unequal power (300, 100, 100, 100)', () => {
    const c = chain({ min_sampling_rate: '0' }, 6, [300n, 100n, 100n, 100n])
    const v = (i: number): Wallet => c.env.validators[i]!

    it('power, not heads, decides: the three small validators (50 %) do not settle; the large one with one small (2/3 exactly) does', async () => {
      const t = await validated(c, 'weighted')
      await c.run([1, 2, 3].map((i) => c.attest(t.taskIdCommitment, undefined, v(i))))
      assert.equal((await c.task(t.taskIdCommitment)).status, TaskStatus.TASK_STATUS_VALIDATED, '300 of 600')
      const u = await validated(c, 'weighted 2')
      const [a0] = await c.run([c.attest(u.taskIdCommitment, undefined, v(0))])
      assert.equal(a0!.code, 0, a0!.log)
      assert.equal((await c.task(u.taskIdCommitment)).status, TaskStatus.TASK_STATUS_VALIDATED, '300 of 600')
      const [a1] = await c.run([c.attest(u.taskIdCommitment, undefined, v(1))])
      assert.equal((await c.task(u.taskIdCommitment)).status, TaskStatus.TASK_STATUS_END_SUCCESS, '400 of 600 is 2/3')
      assert.equal(
        attr(a1!, 'result_settled', 'validators'),
        [v(0), v(1)]
          .map((x) => x.address)
          .sort()
          .join(','),
      )
    })
  })
})
