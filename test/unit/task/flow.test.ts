import assert from 'node:assert/strict'
import { moduleAddress } from '../../../modules/auth/index.ts'
import { QueryNodeRequest, QueryNodeResponse } from '../../../proto/gen/beryl/staking/v1/query.ts'
import { NodeStatus } from '../../../proto/gen/beryl/staking/v1/types.ts'
import { AbortReason, TaskStatus } from '../../../proto/gen/beryl/task/v1/types.ts'
import type { Wallet } from '../../helpers/chain.ts'
import { CHEAT, HONEST, chain, sha } from './chain.ts'

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

    it('an error report (committed like a score) is opened after validation: EndAborted(ErrorReported), refunded, the node unpaid', async () => {
      const { commitment, msg } = c.createMsg(taskId, 'n2', 1n)
      await c.run([[c.env.creator, msg]])
      const t = await c.task(commitment)
      const [s] = await c.run([c.score(t, 'error')])
      assert.equal(s!.code, 0, s!.log)
      assert.equal((await c.task(commitment)).status, TaskStatus.TASK_STATUS_SCORE_READY, 'a report looks like any commitment')
      await c.run([await c.validateMsg([commitment], taskId)])
      assert.equal((await c.task(commitment)).status, TaskStatus.TASK_STATUS_VALIDATED)
      const before = await c.balance(c.env.creator.address)
      const [r] = await c.run([c.reveal(t)])
      assert.equal(r!.code, 0, r!.log)
      const ended = await c.task(commitment)
      assert.deepEqual([ended.status, ended.abortReason], [TaskStatus.TASK_STATUS_END_ABORTED, AbortReason.ABORT_REASON_ERROR_REPORTED])
      assert.equal(await c.balance(c.env.creator.address), before + 1n)
    })

    it("a single task's score is revealed only by the attestation of its upload, which must open the commitment", async () => {
      const { commitment, msg } = c.createMsg(taskId, 'n6', 1n)
      await c.run([[c.env.creator, msg]])
      const t = await c.task(commitment)
      await c.run([c.score(t, HONEST)])
      assert.equal((await c.task(commitment)).score.length, 0, 'no plaintext score in state')
      await c.run([await c.validateMsg([commitment], taskId)])
      const [direct] = await c.run([c.reveal(t)])
      assert.match(direct!.log!, /revealed by uploading its output to a gateway/)
      const [wrong] = await c.run([c.attest(commitment, { score: CHEAT, salt: c.answers.get(Buffer.from(commitment).toString('hex'))!.salt })])
      assert.deepEqual([wrong!.codespace, wrong!.code], ['task', 14])
      const [none] = await c.run([c.attest(commitment, { score: new Uint8Array(), salt: new Uint8Array() })])
      assert.deepEqual([none!.codespace, none!.code], ['task', 14])
      const [ok] = await c.run([c.attest(commitment)])
      assert.equal(ok!.code, 0, ok!.log)
      const ended = await c.task(commitment)
      assert.equal(ended.status, TaskStatus.TASK_STATUS_END_SUCCESS)
      assert.deepEqual([Buffer.from(ended.score).toString('hex'), ended.salt.length], [Buffer.from(HONEST).toString('hex'), 32])
    })

    it('wrong proofs, wrong task ids, other senders and bad scores are refused with their codes', async () => {
      const { commitment, msg } = c.createMsg(taskId, 'n3', 1n)
      await c.run([[c.env.creator, msg]])
      const t = await c.task(commitment)
      const other = c.env.nodes.find((n) => n.address !== t.selectedNode)!
      const [notMine] = await c.run([
        [other, { typeUrl: '/beryl.task.v1.MsgSubmitScore', value: { node: other.address, taskIdCommitment: commitment, scoreCommitment: sha(HONEST) } }],
      ])
      assert.deepEqual([notMine!.codespace, notMine!.code], ['task', 9])
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
})
