import { strict as assert } from 'node:assert'
import { prng } from '../../helpers/prng.ts'
import {
  DEFAULT_SETTLEMENT_PARAMS,
  SHARE_SCALE,
  type Settlement,
  type TaskOutcome,
  type Transfer,
  settle,
  settledAtGroupValidation,
  splitGroupFee,
} from '../../../modules/task/settlement.ts'
import { AbortReason, TaskStatus, TaskType } from '../../../proto/gen/beryl/task/v1/types.ts'
import {
  type GroupMember,
  type MatchingMember,
  TaskRuleError,
  describeStatus,
  groupOutcome,
  isTerminal,
  singleOutcome,
  statusName,
} from '../../../modules/task/validation.ts'

const {
  TASK_STATUS_END_SUCCESS: EndSuccess,
  TASK_STATUS_END_GROUP_SUCCESS: EndGroupSuccess,
  TASK_STATUS_END_GROUP_REFUND: EndGroupRefund,
  TASK_STATUS_END_INVALIDATED: EndInvalidated,
  TASK_STATUS_END_ABORTED: EndAborted,
} = TaskStatus

function expectRuleError(fn: () => unknown, code: TaskRuleError['code'], message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TaskRuleError, `expected TaskRuleError, got ${String(e)}`)
    assert.equal(e.code, code, e.message)
    if (message) assert.match(e.message, message)
    return true
  })
}

/** A share of `percent_tenths` / 1000, e.g. 25 → 2.5 %. */
function share(tenthsOfPercent: bigint): bigint {
  return (tenthsOfPercent * SHARE_SCALE) / 1000n
}

const fees = (entries: [string, bigint][]) => new Map(entries)
const sum = (ts: readonly Transfer[]) => ts.reduce((a, t) => a + t.amount, 0n)
/** A transfer, with the recipient written 'creator', 'protocol' or 'node:<id>'. */
const t = (taskId: string, to: string, amount: bigint, reason: Transfer['reason']): Transfer => ({
  taskId,
  amount,
  reason,
  to: to === 'creator' || to === 'protocol' ? { kind: to } : { kind: 'node', node: to.slice('node:'.length) },
})

/** Crynux's rule: the representative's fee split 10:5:2, the seats' fees refunded. */
const SPLIT = { protocolFeeShare: 0n, splitGroupFee: true }
const MATCH3: MatchingMember[] = [
  { id: 'a', node: 'na', qosScore: 10 },
  { id: 'b', node: 'nb', qosScore: 5 },
  { id: 'c', node: 'nc', qosScore: 2 },
]

describe('task/settlement: splitting the representative fee (crynux.md §7.1)', () => {
  it('three matching members: 10:5:2, rounded down, remainder to the last', () => {
    assert.deepEqual(splitGroupFee(1000n, [10, 5, 2]), [588n, 294n, 118n]) // 588.2, 294.1, 117.6 (+1)
    assert.deepEqual(splitGroupFee(17n, [10, 5, 2]), [10n, 5n, 2n])
    assert.deepEqual(splitGroupFee(101n, [10, 5, 2]), [59n, 29n, 13n]) // 59.4, 29.7, 11.9 (+2)
  })

  it('two matching members keep their own ranks: 10:5, 10:2 or 5:2', () => {
    assert.deepEqual(splitGroupFee(1000n, [10, 5]), [666n, 334n])
    assert.deepEqual(splitGroupFee(1000n, [10, 2]), [833n, 167n])
    assert.deepEqual(splitGroupFee(1000n, [5, 2]), [714n, 286n])
  })

  it('a fee smaller than the ranks all goes to the last member', () => {
    assert.deepEqual(splitGroupFee(1n, [10, 5, 2]), [0n, 0n, 1n])
    assert.deepEqual(splitGroupFee(0n, [10, 5, 2]), [0n, 0n, 0n])
    assert.deepEqual(splitGroupFee(7n, [10]), [7n])
  })

  it('always adds up to the fee exactly', () => {
    const rankSets = [[10], [10, 5], [10, 2], [5, 2], [10, 5, 2], [2, 5, 10], [3, 3, 3]]
    for (const ranks of rankSets) {
      for (let fee = 0n; fee <= 500n; fee++)
        assert.equal(
          splitGroupFee(fee, ranks).reduce((a, b) => a + b, 0n),
          fee,
        )
      const big = 2n ** 255n - 19n
      assert.equal(
        splitGroupFee(big, ranks).reduce((a, b) => a + b, 0n),
        big,
      )
    }
  })

  it('refuses an empty member list, non-positive ranks and negative fees', () => {
    expectRuleError(() => splitGroupFee(10n, []), 'INVALID_SETTLEMENT', /at least one matching member/)
    expectRuleError(() => splitGroupFee(10n, [10, 0]), 'INVALID_SETTLEMENT', /positive integer/)
    expectRuleError(() => splitGroupFee(10n, [1.5]), 'INVALID_SETTLEMENT', /positive integer/)
    expectRuleError(() => splitGroupFee(-1n, [10]), 'INVALID_SETTLEMENT', /negative/)
  })
})

describe('task/settlement: each terminal outcome', () => {
  it('EndSuccess: the whole fee to the node when the protocol fee share is 0 (the default)', () => {
    assert.equal(DEFAULT_SETTLEMENT_PARAMS.protocolFeeShare, 0n)
    const s = settle({ id: 't', node: 'n1', status: EndSuccess }, fees([['t', 1000n]]))
    assert.deepEqual(s, { transfers: [t('t', 'node:n1', 1000n, 'task_income')], slashes: [] })
  })

  it('EndSuccess: the protocol fee share goes to the community pool, rounded down', () => {
    const s = settle({ id: 't', node: 'n1', status: EndSuccess }, fees([['t', 1001n]]), { protocolFeeShare: share(25n) })
    // 2.5 % of 1001 = 25.025 → 25
    assert.deepEqual(s.transfers, [t('t', 'node:n1', 976n, 'task_income'), t('t', 'protocol', 25n, 'protocol_fee')])
  })

  it('EndSuccess: a 100 % share sends everything to the community pool', () => {
    const s = settle({ id: 't', node: 'n1', status: EndSuccess }, fees([['t', 9n]]), { protocolFeeShare: SHARE_SCALE })
    assert.deepEqual(s.transfers, [t('t', 'protocol', 9n, 'protocol_fee')])
  })

  it('EndGroupSuccess (the default): the representative is paid its own fee, less the protocol share; the other members are paid from theirs', () => {
    assert.equal(DEFAULT_SETTLEMENT_PARAMS.splitGroupFee, false)
    assert.deepEqual(settle({ id: 'a', node: 'na', status: EndGroupSuccess, matching: MATCH3 }, fees([['a', 1000n]])).transfers, [
      t('a', 'node:na', 1000n, 'task_income'),
    ])
    const s = settle({ id: 'b', status: EndGroupSuccess, matching: MATCH3 }, fees([['b', 1001n]]), { protocolFeeShare: share(100n) })
    assert.deepEqual(s, { transfers: [t('b', 'node:nb', 901n, 'task_income'), t('b', 'protocol', 100n, 'protocol_fee')], slashes: [] })
  })

  it("EndGroupRefund (the default): the matching seat's node is paid its own fee, less the protocol share", () => {
    const s = settle({ id: 'b', node: 'nb', status: EndGroupRefund }, fees([['b', 1000n]]), { protocolFeeShare: share(100n) })
    assert.deepEqual(s, { transfers: [t('b', 'node:nb', 900n, 'task_income'), t('b', 'protocol', 100n, 'protocol_fee')], slashes: [] })
    expectRuleError(() => settle({ id: 'b', status: EndGroupRefund }, fees([['b', 1000n]])), 'INVALID_SETTLEMENT', /no selected node/)
  })

  it('split_group_fee (Crynux): the representative fee split 10:5:2 among the matching nodes', () => {
    const s = settle({ id: 'a', node: 'na', status: EndGroupSuccess, matching: MATCH3 }, fees([['a', 1000n]]), SPLIT)
    assert.deepEqual(s.transfers, [t('a', 'node:na', 588n, 'task_income'), t('a', 'node:nb', 294n, 'task_income'), t('a', 'node:nc', 118n, 'task_income')])
    assert.deepEqual(s.slashes, [])
  })

  it('split_group_fee: an odd fee and a protocol share, each share cut separately', () => {
    const s = settle({ id: 'a', node: 'na', status: EndGroupSuccess, matching: MATCH3 }, fees([['a', 1001n]]), {
      protocolFeeShare: share(100n),
      splitGroupFee: true,
    })
    // split 588 / 294 / 119 (remainder 2 to c); 10 % of each rounded down: 58, 29, 11
    assert.deepEqual(s.transfers, [
      t('a', 'node:na', 530n, 'task_income'),
      t('a', 'protocol', 58n, 'protocol_fee'),
      t('a', 'node:nb', 265n, 'task_income'),
      t('a', 'protocol', 29n, 'protocol_fee'),
      t('a', 'node:nc', 108n, 'task_income'),
      t('a', 'protocol', 11n, 'protocol_fee'),
    ])
    assert.equal(sum(s.transfers), 1001n)
  })

  it('split_group_fee: two matching members (F1, F2 after F0 was invalidated) share 5:2', () => {
    const matching = [
      { id: 'b', node: 'nb', qosScore: 5 },
      { id: 'c', node: 'nc', qosScore: 2 },
    ]
    const s = settle({ id: 'b', status: EndGroupSuccess, matching }, fees([['b', 1000n]]), SPLIT)
    assert.deepEqual(s.transfers, [t('b', 'node:nb', 714n, 'task_income'), t('b', 'node:nc', 286n, 'task_income')])
  })

  it('split_group_fee: zero shares are not emitted as transfers', () => {
    const s = settle({ id: 'a', status: EndGroupSuccess, matching: MATCH3 }, fees([['a', 1n]]), SPLIT)
    assert.deepEqual(s.transfers, [t('a', 'node:nc', 1n, 'task_income')])
  })

  it("split_group_fee: EndGroupRefund gives the member's own fee back to the creator", () => {
    const s = settle({ id: 'b', node: 'nb', status: EndGroupRefund }, fees([['b', 1000n]]), { protocolFeeShare: share(100n), splitGroupFee: true })
    assert.deepEqual(s, { transfers: [t('b', 'creator', 1000n, 'task_refund')], slashes: [] })
  })

  it('EndInvalidated: the fee back to the creator and the node slashed', () => {
    const s = settle({ id: 'c', node: 'nc', status: EndInvalidated }, fees([['c', 777n]]), { protocolFeeShare: share(100n) })
    assert.deepEqual(s, { transfers: [t('c', 'creator', 777n, 'task_refund')], slashes: [{ taskId: 'c', node: 'nc', reason: 'EndInvalidated' }] })
  })

  it('EndAborted(CreatorValidationTimeout): the node is paid as for EndSuccess, less the protocol share', () => {
    const s = settle({ id: 't', node: 'n1', status: EndAborted, abortReason: AbortReason.ABORT_REASON_CREATOR_VALIDATION_TIMEOUT }, fees([['t', 333n]]), {
      protocolFeeShare: share(30n),
    })
    // 3 % of 333 = 9.99 → 9
    assert.deepEqual(s, { transfers: [t('t', 'node:n1', 324n, 'task_income'), t('t', 'protocol', 9n, 'protocol_fee')], slashes: [] })
  })

  it('EndAborted for every other reason: a full refund to the creator', () => {
    const others = [
      AbortReason.ABORT_REASON_TIMEOUT,
      AbortReason.ABORT_REASON_INCORRECT_RESULT,
      AbortReason.ABORT_REASON_GROUP_TIMEOUT,
      AbortReason.ABORT_REASON_ERROR_REPORTED,
      AbortReason.ABORT_REASON_CREATOR_CANCELLED,
      AbortReason.ABORT_REASON_RESULT_UPLOAD_TIMEOUT,
      AbortReason.ABORT_REASON_NODE_SLASHED,
      AbortReason.ABORT_REASON_EVICTED,
      AbortReason.ABORT_REASON_SEAT_UNFILLED,
      AbortReason.ABORT_REASON_NODE_LEFT,
    ]
    const all = Object.values(AbortReason).filter((v): v is AbortReason => typeof v === 'number' && v !== AbortReason.UNRECOGNIZED)
    assert.deepEqual([...others, AbortReason.ABORT_REASON_NONE, AbortReason.ABORT_REASON_CREATOR_VALIDATION_TIMEOUT].sort(), [...all].sort()) // no reason left out
    for (const reason of others) {
      const s = settle({ id: 't', node: 'n1', status: EndAborted, abortReason: reason }, fees([['t', 1001n]]), { protocolFeeShare: share(100n) })
      assert.deepEqual(s, { transfers: [t('t', 'creator', 1001n, 'task_refund')], slashes: [] }, AbortReason[reason])
    }
    // Aborted from Queued: there is no node, and none is needed.
    assert.deepEqual(settle({ id: 'q', status: EndAborted, abortReason: AbortReason.ABORT_REASON_CREATOR_CANCELLED }, fees([['q', 5n]])).transfers, [
      t('q', 'creator', 5n, 'task_refund'),
    ])
  })

  it('a zero fee settles to no transfers; a slash still happens', () => {
    assert.deepEqual(settle({ id: 't', node: 'n', status: EndSuccess }, fees([['t', 0n]])), { transfers: [], slashes: [] })
    assert.deepEqual(settle({ id: 't', node: 'n', status: EndInvalidated }, fees([['t', 0n]])).slashes, [{ taskId: 't', node: 'n', reason: 'EndInvalidated' }])
  })
})

describe('task/settlement: a whole validation group, from groupOutcome to EndGroupSuccess', () => {
  const img = (h: bigint) => {
    const b = new Uint8Array(8)
    new DataView(b.buffer).setBigUint64(0, h)
    return b
  }
  const member = (id: string, exec: bigint, score: bigint, sequence: bigint): GroupMember => ({
    id,
    node: `n${id}`,
    type: TaskType.TASK_TYPE_IMAGE,
    status: TaskStatus.TASK_STATUS_SCORE_READY,
    score: img(score),
    sequence,
    startTime: 0n,
    scoreReadyTime: exec,
  })

  for (const split of [false, true]) {
    it(
      split
        ? 'split_group_fee: F0 invalidated, F1 ~ F2: two refunds and a slash at validation, then F1 fee split 5:2 at upload'
        : 'F0 invalidated, F1 ~ F2: F0 refunded and slashed and F2 paid its own fee at validation, then F1 paid its own fee at upload',
      () => {
        const group = groupOutcome([member('a', 10n, 0xffffffffffffffffn, 1n), member('b', 20n, 0x1234n, 2n), member('c', 30n, 0x1235n, 3n)])
        const escrow = fees([
          ['a', 1000n],
          ['b', 1000n],
          ['c', 1000n],
        ])
        const params = { protocolFeeShare: 0n, splitGroupFee: split }

        const atValidation = settledAtGroupValidation(group)
        assert.deepEqual(
          atValidation.map((o) => [o.id, statusName(o.status)]),
          [
            ['a', 'EndInvalidated'],
            ['c', 'EndGroupRefund'],
          ],
        )
        const s1 = settle(atValidation, escrow, params)
        assert.deepEqual(s1.transfers, [
          t('a', 'creator', 1000n, 'task_refund'),
          split ? t('c', 'creator', 1000n, 'task_refund') : t('c', 'node:nc', 1000n, 'task_income'),
        ])
        assert.deepEqual(s1.slashes, [{ taskId: 'a', node: 'na', reason: 'EndInvalidated' }])

        assert.equal(group.representative, 'b')
        const s2 = settle({ id: 'b', node: 'nb', status: EndGroupSuccess, matching: group.matching }, escrow, params)
        assert.deepEqual(
          s2.transfers,
          split ? [t('b', 'node:nb', 714n, 'task_income'), t('b', 'node:nc', 286n, 'task_income')] : [t('b', 'node:nb', 1000n, 'task_income')],
        )
      },
    )
  }

  it('members that were already aborted are not settled again', () => {
    const aborted: GroupMember = {
      id: 'x',
      node: 'nx',
      type: TaskType.TASK_TYPE_IMAGE,
      status: EndAborted,
      abortReason: AbortReason.ABORT_REASON_TIMEOUT,
      sequence: 9n,
    }
    const group = groupOutcome([aborted, member('a', 10n, 0x1234n, 1n), member('b', 20n, 0x1234n, 2n)])
    assert.deepEqual(
      settledAtGroupValidation(group).map((o) => o.id),
      ['b'],
    )
  })
})

describe('task/settlement: refused inputs', () => {
  /** `fee` null: no escrow entry at all. */
  const one = (o: Partial<TaskOutcome>, fee: bigint | null = 10n) =>
    settle({ id: 't', node: 'n', status: EndSuccess, ...o }, fee === null ? new Map() : fees([['t', fee]]))

  it('a non-terminal status has nothing to settle', () => {
    for (const status of [
      TaskStatus.TASK_STATUS_QUEUED,
      TaskStatus.TASK_STATUS_STARTED,
      TaskStatus.TASK_STATUS_SCORE_READY,
      TaskStatus.TASK_STATUS_ERROR_REPORTED,
      TaskStatus.TASK_STATUS_VALIDATED,
      TaskStatus.TASK_STATUS_GROUP_VALIDATED,
    ]) {
      expectRuleError(() => one({ status }), 'INVALID_SETTLEMENT', /not terminal/)
    }
  })

  it('a missing, negative or non-bigint fee', () => {
    expectRuleError(() => one({}, null), 'INVALID_SETTLEMENT', /no escrowed fee for task t/)
    expectRuleError(() => one({}, -1n), 'INVALID_SETTLEMENT', /negative/)
    expectRuleError(() => settle({ id: 't', node: 'n', status: EndSuccess }, new Map([['t', 10 as unknown as bigint]])), 'INVALID_SETTLEMENT', /bigint/)
  })

  it('the same task twice in one settlement', () => {
    const o: TaskOutcome = { id: 't', node: 'n', status: EndSuccess }
    expectRuleError(() => settle([o, o], fees([['t', 10n]])), 'INVALID_SETTLEMENT', /settled twice/)
  })

  it('EndAborted without a reason', () => {
    expectRuleError(() => one({ status: EndAborted }), 'INVALID_SETTLEMENT', /without an abort reason/)
    expectRuleError(() => one({ status: EndAborted, abortReason: AbortReason.ABORT_REASON_NONE }), 'INVALID_SETTLEMENT', /without an abort reason/)
  })

  it('a payment or slash without a node', () => {
    expectRuleError(() => one({ node: undefined }), 'INVALID_SETTLEMENT', /no selected node/)
    expectRuleError(() => one({ node: undefined, status: EndInvalidated }), 'INVALID_SETTLEMENT', /no selected node/)
    expectRuleError(
      () => one({ node: '', status: EndAborted, abortReason: AbortReason.ABORT_REASON_CREATOR_VALIDATION_TIMEOUT }),
      'INVALID_SETTLEMENT',
      /no selected node/,
    )
  })

  it('EndGroupSuccess without consistent matching members', () => {
    expectRuleError(() => one({ id: 'a', status: EndGroupSuccess }), 'INVALID_SETTLEMENT')
    expectRuleError(
      () => settle({ id: 'a', status: EndGroupSuccess, matching: [] }, fees([['a', 1n]])),
      'INVALID_SETTLEMENT',
      /without the group's matching members/,
    )
    expectRuleError(() => settle({ id: 'z', status: EndGroupSuccess, matching: MATCH3 }, fees([['z', 1n]])), 'INVALID_SETTLEMENT', /not among/)
    expectRuleError(() => settle({ id: 'a', node: 'nb', status: EndGroupSuccess, matching: MATCH3 }, fees([['a', 1n]])), 'INVALID_SETTLEMENT', /differs/)
    expectRuleError(() => settle({ id: 'a', status: EndGroupSuccess, matching: [MATCH3[0]!, MATCH3[0]!] }, fees([['a', 1n]])), 'INVALID_SETTLEMENT', /twice/)
    expectRuleError(
      () => settle({ id: 'a', status: EndGroupSuccess, matching: [{ id: 'a', node: 'na', qosScore: 0 }] }, fees([['a', 1n]]), SPLIT),
      'INVALID_SETTLEMENT',
      /positive/,
    )
    expectRuleError(() => one({ matching: MATCH3 }), 'INVALID_SETTLEMENT', /only for EndGroupSuccess/)
  })

  it('a protocol share outside [0, 1]', () => {
    expectRuleError(() => settle({ id: 't', node: 'n', status: EndSuccess }, fees([['t', 1n]]), { protocolFeeShare: SHARE_SCALE + 1n }), 'INVALID_ARGUMENT')
    expectRuleError(() => settle({ id: 't', node: 'n', status: EndSuccess }, fees([['t', 1n]]), { protocolFeeShare: -1n }), 'INVALID_SETTLEMENT')
  })
})

// ---- properties on random inputs ----------------------------------------------------------------

/** An integer in [0, n) from the seeded test PRNG. */
function ints(seed: number): (n: number) => number {
  const r = prng(seed)
  return (n: number) => r.int(n)
}

function randomFee(rnd: (n: number) => number): bigint {
  switch (rnd(4)) {
    case 0:
      return BigInt(rnd(20)) // tiny fees, where rounding dominates
    case 1:
      return BigInt(rnd(1_000_000))
    case 2:
      return BigInt(rnd(1_000_000)) * 1_000_000n + BigInt(rnd(1_000_000))
    default:
      return (1n << BigInt(rnd(256))) - BigInt(rnd(2)) // up to 2^255
  }
}

function randomShare(rnd: (n: number) => number): bigint {
  const r = rnd(5)
  if (r === 0) return 0n
  if (r === 1) return SHARE_SCALE
  return (BigInt(rnd(1_000_000)) * SHARE_SCALE) / 1_000_000n + BigInt(rnd(1000))
}

const TERMINAL_KINDS: [TaskStatus, AbortReason?][] = [
  [EndSuccess],
  [EndGroupSuccess],
  [EndGroupRefund],
  [EndInvalidated],
  ...Object.values(AbortReason)
    .filter((v): v is AbortReason => typeof v === 'number' && v !== AbortReason.ABORT_REASON_NONE && v !== AbortReason.UNRECOGNIZED)
    .map((r): [TaskStatus, AbortReason] => [EndAborted, r]),
]

describe('task/settlement: money is conserved (seeded random property tests)', () => {
  it('Σ transfers = Σ escrowed fees of the tasks settled, for 20 000 random settlements', () => {
    for (const [status] of TERMINAL_KINDS) assert.ok(isTerminal(status))
    const rnd = ints(0xbe271)
    for (let round = 0; round < 20_000; round++) {
      const outcomes: TaskOutcome[] = []
      const escrow = new Map<string, bigint>()
      const count = 1 + rnd(4)
      for (let i = 0; i < count; i++) {
        const id = `t${round}-${i}`
        const [status, abortReason] = TERMINAL_KINDS[rnd(TERMINAL_KINDS.length)]!
        const o: TaskOutcome = { id, node: `n${rnd(5)}`, status, abortReason }
        if (status === EndGroupSuccess) {
          const ranks = [
            [10, 5, 2],
            [10, 5],
            [10, 2],
            [5, 2],
          ][rnd(4)]!
          o.matching = ranks.map((q, k) => ({ id: k === 0 ? id : `${id}-m${k}`, node: `n${rnd(5)}`, qosScore: q }))
          o.node = o.matching[0]!.node
        }
        outcomes.push(o)
        escrow.set(id, randomFee(rnd))
      }
      const params = { protocolFeeShare: randomShare(rnd), splitGroupFee: rnd(2) === 0 }
      const s: Settlement = settle(outcomes, escrow, params)

      const total = [...escrow.values()].reduce((a, b) => a + b, 0n)
      assert.equal(sum(s.transfers), total, `round ${round}`)
      for (const o of outcomes) {
        const mine = s.transfers.filter((x) => x.taskId === o.id)
        assert.equal(sum(mine), escrow.get(o.id), `round ${round}, task ${o.id}: each escrow is paid out exactly`)
        const paysNodes =
          o.status === EndSuccess ||
          o.status === EndGroupSuccess ||
          o.abortReason === AbortReason.ABORT_REASON_CREATOR_VALIDATION_TIMEOUT ||
          (o.status === EndGroupRefund && !params.splitGroupFee)
        for (const x of mine) {
          assert.ok(x.amount > 0n)
          if (x.to.kind === 'creator') assert.ok(!paysNodes && x.reason === 'task_refund')
          else if (x.to.kind === 'protocol') assert.ok(paysNodes && x.reason === 'protocol_fee')
          else assert.ok(paysNodes && x.reason === 'task_income')
        }
        // The pool never takes more than its share of what the task paid out.
        const pool = sum(mine.filter((x) => x.to.kind === 'protocol'))
        assert.ok(pool * SHARE_SCALE <= escrow.get(o.id)! * params.protocolFeeShare)
      }
      assert.equal(s.slashes.length, outcomes.filter((o) => o.status === EndInvalidated).length)
    }
  })

  it('the escrow always equals the sum of the open tasks, through random group and single lifecycles', () => {
    const rnd = ints(0x5e771e)
    const balances = new Map<string, bigint>()
    const credit = (to: string, amount: bigint) => balances.set(to, (balances.get(to) ?? 0n) + amount)
    let creatorPaid = 0n
    let escrow = 0n
    const open = new Map<string, bigint>() // task id → escrowed fee
    const openSum = () => [...open.values()].reduce((a, b) => a + b, 0n)
    const apply = (s: Settlement, settled: string[]) => {
      for (const x of s.transfers) {
        escrow -= x.amount
        credit(x.to.kind === 'node' ? `node:${x.to.node}` : x.to.kind, x.amount)
      }
      for (const id of settled) open.delete(id)
      assert.equal(escrow, openSum(), 'the module balance equals the sum of open escrows')
    }
    const params = { protocolFeeShare: share(BigInt(rnd(200))), splitGroupFee: rnd(2) === 0 }
    const hashes = [0x1111n, 0x1113n, 0xfff0000000000000n, 0x0f0f0f0f0f0f0f0fn]
    const seen = new Set<string>()

    for (let g = 0; g < 3000; g++) {
      params.splitGroupFee = rnd(2) === 0 // both ways of paying a group, in turn at random
      const fee = randomFee(rnd)
      const grouped = rnd(3) === 0
      const ids = grouped ? [`g${g}a`, `g${g}b`, `g${g}c`] : [`s${g}`]
      for (const id of ids) {
        open.set(id, fee)
        escrow += fee
        creatorPaid += fee
      }
      assert.equal(escrow, openSum())

      if (!grouped) {
        const id = ids[0]!
        const roll = rnd(4)
        if (roll === 0) {
          apply(settle({ id, status: EndAborted, abortReason: AbortReason.ABORT_REASON_TIMEOUT }, open, params), [id])
        } else if (roll === 1) {
          const v = singleOutcome({ status: TaskStatus.TASK_STATUS_ERROR_REPORTED })
          apply(settle({ id, node: 'n', ...v }, open, params), [id])
        } else if (roll === 2) {
          apply(settle({ id, node: 'n', status: EndAborted, abortReason: AbortReason.ABORT_REASON_CREATOR_VALIDATION_TIMEOUT }, open, params), [id])
        } else {
          assert.equal(singleOutcome({ status: TaskStatus.TASK_STATUS_SCORE_READY }).status, TaskStatus.TASK_STATUS_VALIDATED)
          const end: TaskOutcome = rnd(2)
            ? { id, node: 'n', status: EndSuccess }
            : { id, node: 'n', status: EndAborted, abortReason: AbortReason.ABORT_REASON_RESULT_UPLOAD_TIMEOUT }
          apply(settle(end, open, params), [id])
        }
        continue
      }

      const members: GroupMember[] = ids.map((id, k) => {
        const kind = rnd(6)
        const common = { id, node: `n${rnd(4)}`, type: TaskType.TASK_TYPE_IMAGE, sequence: BigInt(3 * g + k), startTime: 0n, scoreReadyTime: BigInt(rnd(5)) }
        if (kind === 0) return { ...common, status: TaskStatus.TASK_STATUS_ERROR_REPORTED }
        if (kind === 1)
          return {
            id,
            node: common.node,
            type: TaskType.TASK_TYPE_IMAGE,
            sequence: common.sequence,
            status: EndAborted,
            abortReason: AbortReason.ABORT_REASON_TIMEOUT,
          }
        return { ...common, status: TaskStatus.TASK_STATUS_SCORE_READY, score: img8(hashes[rnd(hashes.length)]!) }
      })
      // Members that timed out were settled when they aborted.
      for (const m of members) {
        if (m.status === EndAborted) apply(settle({ id: m.id, status: EndAborted, abortReason: m.abortReason }, open, params), [m.id])
      }
      const group = groupOutcome(members)
      for (const m of group.members) if (m.changed) seen.add(describeStatus(m.status, m.abortReason))
      const now = settledAtGroupValidation(group)
      apply(
        settle(now, open, params),
        now.map((o) => o.id),
      )
      for (const m of group.members)
        assert.equal(open.has(m.id), m.status === TaskStatus.TASK_STATUS_GROUP_VALIDATED, `only the representative stays open (${TaskStatus[m.status]})`)

      if (group.representative) {
        const rep = group.representative
        const repNode = group.matching[0]!.node
        const end: TaskOutcome = rnd(4)
          ? { id: rep, node: repNode, status: EndGroupSuccess, matching: group.matching }
          : { id: rep, node: repNode, status: EndAborted, abortReason: AbortReason.ABORT_REASON_RESULT_UPLOAD_TIMEOUT }
        apply(settle(end, open, params), [rep])
      }
      assert.equal(open.size, 0)
    }
    const received = [...balances.values()].reduce((a, b) => a + b, 0n)
    assert.equal(received, creatorPaid, 'everything the creators paid in came out again')
    assert.equal(escrow, 0n)
    assert.deepEqual([...seen].sort(), ['EndAborted(GroupTimeout)', 'EndAborted(IncorrectResult)', 'EndGroupRefund', 'EndInvalidated', 'GroupValidated'])
    assert.ok(balances.get('protocol')! > 0n && balances.get('creator')! > 0n && balances.get('node:n0')! > 0n)
  })
})

function img8(h: bigint): Uint8Array {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, h)
  return b
}
