// Collateral per open risk (docs/decisions/0024, 0026): a node's stake backs at most one unjudged first-task
// answer per min_stake. The sampling rate r = k/((1−q)(k+s)) prices each task as if a detected fake costs its node
// s (min_stake). Without this rule one stake backed any number of answers whose groups were still running:
// the first conviction took the stake and every other group the node led ended EndAborted(NodeSlashed)
// with refunds, so a node that faked many tasks at once lost s once for all of them.
//
// An answer counts while a validation group could still convict the node for a task it took as a first task
// (T1): the fee the attacker is after is a first task's. An answer waiting for its creator's validation counts
// only for `answer_hold` seconds (decision 0026): creators who never validate (crashed applications, or an
// attacker paying one fee per node) otherwise locked each min-stake node out of first tasks for the whole
// creator_validation_timeout, which cost the honest network a third of its capacity in the twin.
//
// | the node's task | status | counts | why |
// |---|---|---|---|
// | T1, committed, creator has not validated, within its hold (hold_until ≠ 0) | ScoreReady | yes | the VRF may still select it; otherwise a node could commit many answers before any is known to be sampled |
// | T1, committed, creator has not validated, its hold ended (hold_until = 0) | ScoreReady | no | its creator is late; if it is selected later it counts again (GroupPending) |
// | T1 selected, its group running or revealing | GroupPending | yes | the group judges it |
// | running (not committed yet) | Started | no | the node is Busy and takes nothing else; an unanswered task times out unslashed |
// | T1 not selected, waiting for its upload | Validated | no | it can no longer be sampled; an upload that does not open the commitment is refunded, not slashed |
// | representative waiting for its upload | GroupValidated | no | its group has judged it |
// | a validation seat | any | no | see below |
// | ended | End* | no | settled |
//
// The rule at dispatch of a first task: a node is drawn only if stake ≥ (unjudged + 1) × min_stake, so it
// holds stake for every first-task answer that can still be judged, and a conviction, which takes the whole
// stake (slash_fraction of it), takes at least min_stake per answer.
//
// Seats are drawn from every serving node whatever it holds (dispatch.ts, the seat pool): a seat is not a fee
// an attacker can win alone. In a group led by an honest T1 a seat that fakes is outvoted and convicted, so a
// rational attacker computes it; in a group led by its own T1 the attacker's seat always sits in the majority,
// which is the q the rate already prices. Gating seats would also make the draw depend on what nodes hold,
// which an attacker shapes (it chooses when its answers are judged), and that is the bias the seat pool removes.
//
// Integer-only, no state beyond the per-node count (keys.ts UNJUDGED), which the keeper keeps equal to the
// number of the node's tasks in the statuses above, and the holds still running (keys.ts HOLD), which EndBlock
// ends in the first block whose time is past hold_until (before dispatch, so the node may be drawn at once).

import { TaskStatus, type Task } from '../../proto/gen/beryl/task/v1/types.ts'

/** Whether a task is a first-task answer a validation group can still judge (the table above). */
export function isUnjudgedAnswer(t: Pick<Task, 'status' | 'validationOf' | 'holdUntil'>): boolean {
  if (t.validationOf.length !== 0) return false
  return t.status === TaskStatus.TASK_STATUS_GROUP_PENDING || (t.status === TaskStatus.TASK_STATUS_SCORE_READY && t.holdUntil !== 0n)
}

/** Whether a node with `stake` and `unjudged` answers may be given one more first task: stake ≥ (unjudged + 1) × min_stake. */
export function stakeBacksAnotherAnswer(stake: bigint, minStake: bigint, unjudged: bigint): boolean {
  return stake >= (unjudged + 1n) * minStake
}
