// Collateral per open risk (docs/decisions/0024): a node's stake backs at most one unjudged answer per
// min_stake. The sampling rate r = k/((1−q)(k+s)) prices each task as if a detected fake costs its node s
// (min_stake). Without this rule one stake backed any number of answers whose groups were still running:
// the first conviction took the stake and every other group the node sat in ended EndAborted(NodeSlashed)
// with refunds, so a node that faked many tasks at once lost s once for all of them.
//
// An answer is *unjudged* while a validation group could still convict the node for it:
//
// | the node's task | status | counts | why |
// |---|---|---|---|
// | first task (T1), committed, creator has not validated | ScoreReady | yes | the VRF may still select it; otherwise a node could commit many answers before any is known to be sampled |
// | T1 selected, its group running or revealing | GroupPending | yes | the group judges it |
// | a validation seat, committed (revealed or not) | ScoreReady | yes | its group judges it |
// | running (not committed yet) | Started | no | the node is Busy and takes nothing else; an unanswered task times out unslashed |
// | T1 not selected, waiting for its upload | Validated | no | it can no longer be sampled; an upload that does not open the commitment is refunded, not slashed |
// | representative waiting for its upload | GroupValidated | no | its group has judged it |
// | ended | End* | no | settled |
//
// The rule at dispatch (a first task or a seat alike): a node is drawn only if
// stake ≥ (unjudged + 1) × min_stake, so once it holds an answer it holds stake for every unjudged answer,
// and a conviction, which takes the whole stake (slash_fraction of it), takes at least min_stake per answer.
// Integer-only, no state beyond the per-node count (keys.ts UNJUDGED), which the keeper keeps equal to the
// number of the node's tasks in the statuses above.

import { TaskStatus } from '../../proto/gen/beryl/task/v1/types.ts'

/** Whether a task in this status is an answer a validation group can still judge (the table above). */
export function isUnjudgedAnswer(status: TaskStatus): boolean {
  return status === TaskStatus.TASK_STATUS_SCORE_READY || status === TaskStatus.TASK_STATUS_GROUP_PENDING
}

/** Whether a node with `stake` and `unjudged` answers may be given one more task: stake ≥ (unjudged + 1) × min_stake. */
export function stakeBacksAnotherAnswer(stake: bigint, minStake: bigint, unjudged: bigint): boolean {
  return stake >= (unjudged + 1n) * minStake
}
