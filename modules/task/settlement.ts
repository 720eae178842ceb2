// Where a task's escrowed fee goes when the task ends (Crynux's relay: its refund rules and the 10:5:2 group fee split).
//
// The creator pays each task's fee into the task module's escrow when the task
// is created. At the task's terminal transition, settle() says who receives that
// escrow. It never creates or destroys money: the transfers of a settlement add
// up exactly to the escrows of the tasks it settles, so the module's balance
// always equals the sum of the open escrows. The property test in
// test/unit/task/settlement.test.ts checks this on random outcomes.
//
// | terminal                            | the task's escrow goes to |
// |-------------------------------------|---------------------------|
// | EndSuccess                          | its node, less the protocol fee share (to the validators, through the fee collector) |
// | EndAborted(CreatorValidationTimeout)| the same as EndSuccess: the node held its GPU for the task and is paid even unvalidated |
// | EndGroupSuccess (the representative)| its node, less the protocol fee share; with split_group_fee (Crynux's rule): split 10:5:2 by QoS rank among the group's matching members, each share less the protocol fee share |
// | EndGroupRefund (a matching seat)    | its node, less the protocol fee share; with split_group_fee: the creator (the member's node is paid from the representative's fee instead) |
// | EndInvalidated                      | the creator, and the node is slashed |
// | EndAborted(any other reason)        | the creator |
//
// Three choices differ from the relay:
// - Every matching member of a validation group is paid its own escrowed fee
//   (docs/decisions/0025): a sampled task costs its creator one fee per
//   matching execution, and honest work is paid for every run. The relay
//   shares the representative's one fee among the three runs and refunds the
//   seats' fees, so each honest run of a sampled task earns a third to a half
//   of a fee; the vss param split_group_fee = true keeps that rule.
// - EndInvalidated refunds the creator. The relay keeps the fee and pays it to
//   nobody. Beryl's escrow has to go somewhere, and the
//   Crynux docs and VSSTask.sol refund it.
// - The protocol fee share is cut from every payment to a node, including each
//   group share and the CreatorValidationTimeout payment. The relay cuts its DAO
//   share the same way, from every TaskIncome. The default is 0.
//
// Integers only: amounts are bigint uberyl; the share is fixed point.

import { AbortReason, TaskStatus } from '../../proto/gen/beryl/task/v1/types.ts'
import { SCALE } from '../common/amounts.ts'
import { type GroupOutcome, type MatchingMember, TaskRuleError, describeStatus, isTerminal } from './validation.ts'

/** Fixed-point scale of protocolFeeShare: v stands for v / 10^18, like Cosmos' Dec and vss's RATE_SCALE. */
export const SHARE_SCALE = SCALE

export interface SettlementParams {
  /** Fraction of every node payment sent to the community pool, scaled by SHARE_SCALE; in [0, SHARE_SCALE]. */
  protocolFeeShare: bigint
  /** Crynux's rule: the representative's fee split 10:5:2 among the matching members, the seats' fees refunded. */
  splitGroupFee?: boolean
}

export const DEFAULT_SETTLEMENT_PARAMS: Readonly<SettlementParams> = { protocolFeeShare: 0n, splitGroupFee: false }

/** Who receives a transfer: the task's creator, the protocol (its share, paid to the validators), or a node's account. */
export type Recipient = { kind: 'creator' } | { kind: 'protocol' } | { kind: 'node'; node: string }

const CREATOR: Recipient = { kind: 'creator' }
const PROTOCOL: Recipient = { kind: 'protocol' }

/** Named after the relay's ledger events: TaskIncome, DaoTaskShare, TaskRefund. */
export type TransferReason = 'task_income' | 'protocol_fee' | 'task_refund'

/** A payment out of one task's escrow. */
export interface Transfer {
  /** The task whose escrow pays. */
  taskId: string
  to: Recipient
  amount: bigint
  reason: TransferReason
}

export interface Slash {
  taskId: string
  node: string
  reason: 'EndInvalidated'
}

export interface Settlement {
  /** Only positive amounts, in a fixed order: outcomes in the order given, and within one, as the table above lists. */
  transfers: Transfer[]
  slashes: Slash[]
}

/** One task reaching a terminal status. */
export interface TaskOutcome {
  id: string
  /** The selected node. Required when the node is paid or slashed. */
  node?: string
  status: TaskStatus
  /** Required when status is EndAborted. */
  abortReason?: AbortReason
  /**
   * EndGroupSuccess only: the group's matching members (GroupOutcome.matching),
   * fastest first, this task included.
   */
  matching?: readonly MatchingMember[]
}

function checkAmount(what: string, v: unknown): bigint {
  if (typeof v !== 'bigint') throw new TaskRuleError('INVALID_SETTLEMENT', `${what} must be a bigint`)
  if (v < 0n) throw new TaskRuleError('INVALID_SETTLEMENT', `${what} must not be negative, got ${v}`)
  return v
}

/**
 * Splits the representative's fee among a group's matching members in
 * proportion to their QoS scores, as the relay does (payment_i =
 * fee × qos_i / Σqos over the GroupValidated and EndGroupRefund members).
 * Shares are rounded down and the remainder goes to the last member, so the
 * shares add up to `fee` exactly. Callers pass members fastest first (as
 * GroupOutcome.matching is), so the remainder goes to the slowest matching
 * member. The relay orders by task id instead.
 *
 * Two matching members keep their own ranks, so the split is not always
 * 10:5. It is 10:5 for {F0, F1}, 10:2 for {F0, F2} and 5:2 for {F1, F2}: a
 * member is paid for the speed it showed in the whole group, and an
 * invalidated member's rank is not passed on to anyone.
 */
export function splitGroupFee(fee: bigint, ranks: readonly number[]): bigint[] {
  checkAmount('fee', fee)
  if (ranks.length === 0) throw new TaskRuleError('INVALID_SETTLEMENT', 'a group fee needs at least one matching member to split among')
  const weights = ranks.map((r) => {
    if (!Number.isSafeInteger(r) || r <= 0) throw new TaskRuleError('INVALID_SETTLEMENT', `a QoS rank must be a positive integer, got ${String(r)}`)
    return BigInt(r)
  })
  const total = weights.reduce((a, b) => a + b, 0n)
  const shares = weights.map((w) => (fee * w) / total)
  const paid = shares.reduce((a, b) => a + b, 0n)
  shares[shares.length - 1]! += fee - paid
  return shares
}

function push(out: Transfer[], taskId: string, to: Recipient, amount: bigint, reason: TransferReason): void {
  if (amount > 0n) out.push({ taskId, to, amount, reason })
}

/** A payment to a node: the protocol's cut (rounded down, in the node's favour) to the community pool, the rest to the node. */
function payNode(out: Transfer[], taskId: string, node: string, amount: bigint, share: bigint): void {
  const cut = (amount * share) / SHARE_SCALE
  push(out, taskId, { kind: 'node', node }, amount - cut, 'task_income')
  push(out, taskId, PROTOCOL, cut, 'protocol_fee')
}

function requireNode(o: TaskOutcome): string {
  if (typeof o.node !== 'string' || o.node.length === 0) {
    throw new TaskRuleError('INVALID_SETTLEMENT', `task ${o.id} ends ${describeStatus(o.status, o.abortReason)} but has no selected node`)
  }
  return o.node
}

function checkMatching(o: TaskOutcome): { matching: readonly MatchingMember[]; self: MatchingMember } {
  const m = o.matching
  if (!m || m.length === 0) throw new TaskRuleError('INVALID_SETTLEMENT', `task ${o.id} ends EndGroupSuccess without the group's matching members`)
  const ids = new Set<string>()
  for (const x of m) {
    if (ids.has(x.id)) throw new TaskRuleError('INVALID_SETTLEMENT', `task ${x.id} is listed twice among the matching members`)
    ids.add(x.id)
    if (typeof x.node !== 'string' || x.node.length === 0) throw new TaskRuleError('INVALID_SETTLEMENT', `matching member ${x.id} has no node`)
  }
  const self = m.find((x) => x.id === o.id)
  if (!self) throw new TaskRuleError('INVALID_SETTLEMENT', `task ${o.id} ends EndGroupSuccess but is not among its group's matching members`)
  if (o.node !== undefined && o.node !== self.node) {
    throw new TaskRuleError('INVALID_SETTLEMENT', `task ${o.id}: node ${o.node} differs from the matching member's node ${self.node}`)
  }
  return { matching: m, self }
}

/**
 * The transfers and slashes for tasks reaching terminal statuses, paid from
 * each task's escrow `fees.get(id)`. Σ transfers = Σ fees of the outcomes
 * given, always. Refuses non-terminal statuses: GroupValidated and Validated
 * settle later, when the result upload ends them in EndGroupSuccess /
 * EndSuccess or the upload times out.
 */
export function settle(
  outcomes: TaskOutcome | readonly TaskOutcome[],
  fees: ReadonlyMap<string, bigint>,
  params: SettlementParams = DEFAULT_SETTLEMENT_PARAMS,
): Settlement {
  const list: readonly TaskOutcome[] = Array.isArray(outcomes) ? outcomes : [outcomes as TaskOutcome]
  const share = checkAmount('protocolFeeShare', params.protocolFeeShare)
  const split = params.splitGroupFee ?? false
  if (share > SHARE_SCALE) throw new TaskRuleError('INVALID_ARGUMENT', `protocolFeeShare must be at most ${SHARE_SCALE} (100%), got ${share}`)

  const transfers: Transfer[] = []
  const slashes: Slash[] = []
  const seen = new Set<string>()
  for (const o of list) {
    if (seen.has(o.id)) throw new TaskRuleError('INVALID_SETTLEMENT', `task ${o.id} is settled twice`)
    seen.add(o.id)
    if (!fees.has(o.id)) throw new TaskRuleError('INVALID_SETTLEMENT', `no escrowed fee for task ${o.id}`)
    const fee = checkAmount(`fee of task ${o.id}`, fees.get(o.id))
    if (!isTerminal(o.status)) {
      throw new TaskRuleError('INVALID_SETTLEMENT', `task ${o.id} is ${describeStatus(o.status)}, not terminal; it has nothing to settle yet`)
    }
    if (o.matching !== undefined && o.status !== TaskStatus.TASK_STATUS_END_GROUP_SUCCESS) {
      throw new TaskRuleError('INVALID_SETTLEMENT', `task ${o.id}: matching members are given only for EndGroupSuccess`)
    }
    if (o.status === TaskStatus.TASK_STATUS_END_ABORTED && (o.abortReason === undefined || o.abortReason === AbortReason.ABORT_REASON_NONE)) {
      throw new TaskRuleError('INVALID_SETTLEMENT', `task ${o.id} is EndAborted without an abort reason`)
    }

    switch (o.status) {
      case TaskStatus.TASK_STATUS_END_SUCCESS:
        payNode(transfers, o.id, requireNode(o), fee, share)
        break
      case TaskStatus.TASK_STATUS_END_GROUP_SUCCESS: {
        const { matching, self } = checkMatching(o)
        if (!split) {
          payNode(transfers, o.id, self.node, fee, share)
          break
        }
        const shares = splitGroupFee(
          fee,
          matching.map((x) => x.qosScore),
        )
        matching.forEach((x, i) => payNode(transfers, o.id, x.node, shares[i]!, share))
        break
      }
      case TaskStatus.TASK_STATUS_END_INVALIDATED:
        slashes.push({ taskId: o.id, node: requireNode(o), reason: 'EndInvalidated' })
        push(transfers, o.id, CREATOR, fee, 'task_refund')
        break
      case TaskStatus.TASK_STATUS_END_ABORTED:
        if (o.abortReason === AbortReason.ABORT_REASON_CREATOR_VALIDATION_TIMEOUT) payNode(transfers, o.id, requireNode(o), fee, share)
        else push(transfers, o.id, CREATOR, fee, 'task_refund')
        break
      case TaskStatus.TASK_STATUS_END_GROUP_REFUND:
        if (split) push(transfers, o.id, CREATOR, fee, 'task_refund')
        else payNode(transfers, o.id, requireNode(o), fee, share)
        break
    }
  }
  return { transfers, slashes }
}

/**
 * The members a group validation ends right away (EndGroupRefund,
 * EndInvalidated, EndAborted(IncorrectResult | GroupTimeout)), ready for
 * settle(). The GroupValidated member settles later, and members that were
 * already EndAborted settled when they aborted.
 */
export function settledAtGroupValidation(group: GroupOutcome): TaskOutcome[] {
  return group.members.filter((m) => m.changed && isTerminal(m.status)).map((m) => ({ id: m.id, node: m.node, status: m.status, abortReason: m.abortReason }))
}
