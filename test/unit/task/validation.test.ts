import { strict as assert } from 'node:assert'
import { AbortReason, TaskError, TaskStatus, TaskType } from '../../../proto/gen/beryl/task/v1/types.ts'
import { TaskRuleError, isTerminal, reasonName, statusName } from '../../../modules/task/validation.ts'
import {
  DEFAULT_HAMMING_THRESHOLD,
  type GroupMember,
  type GroupOutcome,
  groupOutcome,
  membersMatch,
  pHashDistance,
  scoresMatch,
  singleOutcome,
  validateScore,
} from '../../../modules/task/validation.ts'
import { compareImageScores, hammingDistance } from '../../../outputs/phash/phash.ts'

const {
  TASK_STATUS_SCORE_READY: ScoreReady,
  TASK_STATUS_ERROR_REPORTED: ErrorReported,
  TASK_STATUS_END_ABORTED: EndAborted,
  TASK_STATUS_GROUP_VALIDATED: GroupValidated,
  TASK_STATUS_END_GROUP_REFUND: EndGroupRefund,
  TASK_STATUS_END_INVALIDATED: EndInvalidated,
} = TaskStatus
const T = DEFAULT_HAMMING_THRESHOLD

function expectRuleError(fn: () => unknown, code: TaskRuleError['code'], message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TaskRuleError, `expected TaskRuleError, got ${String(e)}`)
    assert.equal(e.code, code, e.message)
    if (message) assert.match(e.message, message)
    return true
  })
}

/** Each 64-bit value becomes one big-endian 8-byte pHash. */
function img(...hashes: bigint[]): Uint8Array {
  const out = new Uint8Array(8 * hashes.length)
  hashes.forEach((h, i) => new DataView(out.buffer).setBigUint64(8 * i, h))
  return out
}

/** The lowest n bits set, shifted left by `from`. */
function bits(n: number, from = 0): bigint {
  return ((1n << BigInt(n)) - 1n) << BigInt(from)
}

const X = 0x0123456789abcdefn
const FAR = X ^ bits(64) // X's complement: at least 40 bits from every X ^ bits(k ≤ 24) used here

function text(fill: number, len = 32): Uint8Array {
  return new Uint8Array(len).fill(fill)
}

// ---- group builders: execution time decides the rank, so every member gets a distinct one ----

let nextSequence = 100n
function base(id: string, exec: bigint | undefined): Omit<GroupMember, 'status'> {
  const start = 5_000n + nextSequence // different start times, so only scoreReadyTime - startTime can explain the order
  return {
    id,
    node: `node-${id}`,
    type: TaskType.TASK_TYPE_IMAGE,
    sequence: nextSequence++,
    startTime: exec === undefined ? undefined : start,
    scoreReadyTime: exec === undefined ? undefined : start + exec,
  }
}
function scored(id: string, exec: bigint, score: Uint8Array, type = TaskType.TASK_TYPE_IMAGE): GroupMember {
  return { ...base(id, exec), type, status: ScoreReady, score }
}
function errored(id: string, exec: bigint, type = TaskType.TASK_TYPE_IMAGE): GroupMember {
  return { ...base(id, exec), type, status: ErrorReported }
}
function aborted(id: string, reason: AbortReason): GroupMember {
  return { ...base(id, undefined), status: EndAborted, abortReason: reason }
}

type Expected = [status: TaskStatus, reason: AbortReason, qos: number | null, changed?: boolean]
const GV = (qos: number): Expected => [GroupValidated, AbortReason.ABORT_REASON_NONE, qos]
const GR = (qos: number): Expected => [EndGroupRefund, AbortReason.ABORT_REASON_NONE, qos]
const INV: Expected = [EndInvalidated, AbortReason.ABORT_REASON_NONE, 0]
const INCORRECT = (qos: number): Expected => [EndAborted, AbortReason.ABORT_REASON_INCORRECT_RESULT, qos]

function expectGroup(r: GroupOutcome, expected: Record<string, Expected>): void {
  assert.equal(r.members.length, Object.keys(expected).length)
  for (const m of r.members) {
    const e = expected[m.id]
    assert.ok(e, `unexpected member ${m.id}`)
    const [status, reason, qos, changed = true] = e
    assert.deepEqual(
      { status: statusName(m.status), reason: reasonName(m.abortReason), qos: m.qosScore, changed: m.changed },
      { status: statusName(status), reason: reasonName(reason), qos, changed },
      `member ${m.id}`,
    )
  }
}

/** Members given out of rank order, so the tests also show that the input order does not matter. */
function shuffled(f0: GroupMember, f1: GroupMember, f2: GroupMember): GroupMember[] {
  return [f2, f0, f1]
}

describe('task: the enum numbers (proto/beryl/task/v1/types.proto)', () => {
  it('keeps Crynux relay-era numbers, with the values the relay never sets reserved', () => {
    assert.deepEqual(
      [
        TaskStatus.TASK_STATUS_QUEUED,
        TaskStatus.TASK_STATUS_STARTED,
        ErrorReported,
        ScoreReady,
        TaskStatus.TASK_STATUS_VALIDATED,
        GroupValidated,
        EndInvalidated,
        TaskStatus.TASK_STATUS_END_SUCCESS,
        EndAborted,
        EndGroupRefund,
        TaskStatus.TASK_STATUS_END_GROUP_SUCCESS,
      ],
      [0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    )
    assert.equal(TaskStatus[2], undefined) // ParametersUploaded
    assert.deepEqual(
      [
        AbortReason.ABORT_REASON_NONE,
        AbortReason.ABORT_REASON_TIMEOUT,
        AbortReason.ABORT_REASON_INCORRECT_RESULT,
        AbortReason.ABORT_REASON_GROUP_TIMEOUT,
        AbortReason.ABORT_REASON_ERROR_REPORTED,
        AbortReason.ABORT_REASON_CREATOR_CANCELLED,
        AbortReason.ABORT_REASON_CREATOR_VALIDATION_TIMEOUT,
        AbortReason.ABORT_REASON_RESULT_UPLOAD_TIMEOUT,
        AbortReason.ABORT_REASON_NODE_SLASHED,
      ],
      [0, 1, 3, 5, 6, 7, 8, 9, 10],
    )
    assert.equal(AbortReason[2], undefined) // ModelDownloadFailed
    assert.equal(AbortReason[4], undefined) // TaskFeeTooLow
    assert.deepEqual([TaskType.TASK_TYPE_IMAGE, TaskType.TASK_TYPE_TEXT], [0, 1])
    assert.deepEqual([TaskError.TASK_ERROR_NONE, TaskError.TASK_ERROR_PARAMETERS_INVALID], [0, 1])
  })

  it('isTerminal holds for the five End states only', () => {
    const terminal = Object.values(TaskStatus).filter((v): v is TaskStatus => typeof v === 'number' && isTerminal(v))
    assert.deepEqual(terminal.map((s) => statusName(s)).sort(), ['EndAborted', 'EndGroupRefund', 'EndGroupSuccess', 'EndInvalidated', 'EndSuccess'])
  })
})

describe('task/validation: MsgSubmitScore score checks', () => {
  it('accepts an IMAGE score of 8 bytes per image and returns the image count', () => {
    assert.equal(validateScore(TaskType.TASK_TYPE_IMAGE, img(X)), 1)
    assert.equal(validateScore(TaskType.TASK_TYPE_IMAGE, img(X, 0n, FAR), 3), 3)
  })

  it('accepts a TEXT score of 32 bytes per output and returns the output count', () => {
    assert.equal(validateScore(TaskType.TASK_TYPE_TEXT, text(7)), 1)
    assert.equal(validateScore(TaskType.TASK_TYPE_TEXT, text(7, 64), 2), 2)
  })

  it('rejects an empty score', () => {
    expectRuleError(() => validateScore(TaskType.TASK_TYPE_IMAGE, new Uint8Array(0)), 'INVALID_SCORE', /IMAGE score is empty/)
    expectRuleError(() => validateScore(TaskType.TASK_TYPE_TEXT, new Uint8Array(0)), 'INVALID_SCORE', /TEXT score is empty/)
  })

  it('rejects an IMAGE score that is not a whole number of 8-byte pHashes', () => {
    for (const n of [1, 7, 9, 12, 31]) {
      expectRuleError(
        () => validateScore(TaskType.TASK_TYPE_IMAGE, new Uint8Array(n).fill(1)),
        'INVALID_SCORE',
        new RegExp(`is ${n} bytes; it must be one 8-byte pHash per image`),
      )
    }
  })

  it('rejects a TEXT score that is not a whole number of 32-byte SHA-256 digests', () => {
    for (const n of [8, 16, 31, 33, 40]) {
      expectRuleError(
        () => validateScore(TaskType.TASK_TYPE_TEXT, new Uint8Array(n).fill(1)),
        'INVALID_SCORE',
        new RegExp(`is ${n} bytes; it must be one 32-byte SHA-256 per output`),
      )
    }
  })

  it('rejects an all-zero score, but not a score in which only one image hash is zero', () => {
    expectRuleError(() => validateScore(TaskType.TASK_TYPE_IMAGE, new Uint8Array(16)), 'INVALID_SCORE', /all zero bytes/)
    expectRuleError(() => validateScore(TaskType.TASK_TYPE_TEXT, new Uint8Array(32)), 'INVALID_SCORE', /all zero bytes/)
    // A black image hashes to 0 (every DCT coefficient is 0, none above the median), so one zero pHash is legitimate.
    assert.equal(validateScore(TaskType.TASK_TYPE_IMAGE, img(0n, X)), 2)
  })

  it('rejects a score that covers a different number of outputs than the task produces', () => {
    expectRuleError(() => validateScore(TaskType.TASK_TYPE_IMAGE, img(X, X), 3), 'INVALID_SCORE', /covers 2 outputs \(16 bytes\); the task produces 3/)
    expectRuleError(() => validateScore(TaskType.TASK_TYPE_TEXT, text(1, 64), 1), 'INVALID_SCORE', /covers 2 outputs/)
    expectRuleError(() => validateScore(TaskType.TASK_TYPE_IMAGE, img(X), 0), 'INVALID_ARGUMENT')
    expectRuleError(() => validateScore(TaskType.TASK_TYPE_IMAGE, img(X), 1.5), 'INVALID_ARGUMENT')
  })

  it('rejects an unknown task type', () => {
    expectRuleError(() => validateScore(2 as TaskType, img(X)), 'INVALID_ARGUMENT', /unknown task type/)
  })
})

describe('task/validation: score comparison (crynux.md §2.3)', () => {
  it('IMAGE: Hamming distance 23 matches, 24 does not (threshold 24, strictly less)', () => {
    assert.equal(T, 24)
    assert.equal(pHashDistance(img(X), img(X ^ bits(23))), 23)
    assert.equal(scoresMatch(TaskType.TASK_TYPE_IMAGE, img(X), img(X ^ bits(23)), T), true)
    assert.equal(scoresMatch(TaskType.TASK_TYPE_IMAGE, img(X), img(X ^ bits(24)), T), false)
    assert.equal(scoresMatch(TaskType.TASK_TYPE_IMAGE, img(X), img(X ^ bits(23, 41)), T), true) // bits anywhere in the hash
    assert.equal(scoresMatch(TaskType.TASK_TYPE_IMAGE, img(X), img(X), T), true)
  })

  it('IMAGE: every image must match on its own; there is no averaging', () => {
    const a = img(X, FAR, X)
    assert.equal(scoresMatch(TaskType.TASK_TYPE_IMAGE, a, img(X ^ bits(23), FAR ^ bits(23), X ^ bits(23)), T), true)
    // Total distance 0 + 0 + 24 = 24 over 3 images would pass an average; the third image alone fails.
    assert.equal(scoresMatch(TaskType.TASK_TYPE_IMAGE, a, img(X, FAR, X ^ bits(24)), T), false)
  })

  it('IMAGE: different image counts and empty scores never match', () => {
    assert.equal(scoresMatch(TaskType.TASK_TYPE_IMAGE, img(X), img(X, X), T), false)
    assert.equal(scoresMatch(TaskType.TASK_TYPE_IMAGE, new Uint8Array(0), new Uint8Array(0), T), false)
    assert.equal(scoresMatch(TaskType.TASK_TYPE_IMAGE, new Uint8Array(12), new Uint8Array(12), T), false)
  })

  it('IMAGE: threshold 0 matches nothing, as a relay configured with 0 would', () => {
    assert.equal(scoresMatch(TaskType.TASK_TYPE_IMAGE, img(X), img(X), 0), false)
    expectRuleError(() => scoresMatch(TaskType.TASK_TYPE_IMAGE, img(X), img(X), -1), 'INVALID_ARGUMENT')
    expectRuleError(() => scoresMatch(TaskType.TASK_TYPE_IMAGE, img(X), img(X), 2.5), 'INVALID_ARGUMENT')
  })

  it('TEXT: only byte-for-byte equal scores match, whatever the threshold', () => {
    const a = text(0xab, 64)
    assert.equal(scoresMatch(TaskType.TASK_TYPE_TEXT, a, a.slice(), T), true)
    const oneBit = a.slice()
    oneBit[63]! ^= 1
    assert.equal(scoresMatch(TaskType.TASK_TYPE_TEXT, a, oneBit, 64), false)
    assert.equal(scoresMatch(TaskType.TASK_TYPE_TEXT, a, text(0xab, 32), T), false)
    assert.equal(scoresMatch(TaskType.TASK_TYPE_TEXT, new Uint8Array(0), new Uint8Array(0), T), false)
  })

  it("agrees with the worker's hammingDistance and compareImageScores on a grid of inputs", () => {
    // Hashes with every popcount pattern per byte, several image counts and thresholds around the boundary.
    const hashes: bigint[] = [0n, X, FAR, ~X & bits(64), bits(64)]
    for (let k = 0; k <= 64; k += 3) hashes.push(X ^ bits(k), X ^ bits(k, 64 - k))
    for (let k = 0; k < 64; k += 7) hashes.push(1n << BigInt(k), 0x8040201008040201n >> BigInt(k % 8))
    const thresholds = [0, 1, 8, 23, 24, 25, 32, 64, 65]
    let checked = 0
    for (const a of hashes) {
      for (const b of hashes) {
        assert.equal(pHashDistance(img(a), img(b)), hammingDistance(img(a), img(b)))
        for (const t of thresholds) {
          for (const [sa, sb] of [
            [img(a), img(b)],
            [img(a, b, X), img(b, a, X)],
            [img(a, X), img(b)],
          ] as const) {
            assert.equal(scoresMatch(TaskType.TASK_TYPE_IMAGE, sa, sb, t), compareImageScores(sa, sb, t), `a=${a.toString(16)} b=${b.toString(16)} t=${t}`)
            checked++
          }
        }
      }
    }
    assert.ok(checked > 50_000)
  })
})

describe('task/validation: "~" between two group members (crynux.md §1.4)', () => {
  const s = (score: Uint8Array, type = TaskType.TASK_TYPE_IMAGE) => ({ type, status: ScoreReady, score })
  const e = (type = TaskType.TASK_TYPE_IMAGE) => ({ type, status: ErrorReported })

  it('two error reports are equal', () => {
    assert.equal(membersMatch(e(), e(), T), true)
  })
  it('an error report never equals a score', () => {
    assert.equal(membersMatch(e(), s(img(X)), T), false)
    assert.equal(membersMatch(s(img(X)), e(), T), false)
  })
  it('two scores compare by the task type rule', () => {
    assert.equal(membersMatch(s(img(X)), s(img(X ^ bits(23))), T), true)
    assert.equal(membersMatch(s(img(X)), s(img(X ^ bits(24))), T), false)
    assert.equal(membersMatch(s(text(1), TaskType.TASK_TYPE_TEXT), s(text(1), TaskType.TASK_TYPE_TEXT), T), true)
  })
  it('different task types are never equal', () => {
    assert.equal(membersMatch(e(TaskType.TASK_TYPE_IMAGE), e(TaskType.TASK_TYPE_TEXT), T), false)
    assert.equal(membersMatch(s(text(1, 32)), s(text(1, 32), TaskType.TASK_TYPE_TEXT), T), false)
  })
  it('any other pair of statuses is not equal', () => {
    assert.equal(membersMatch({ type: TaskType.TASK_TYPE_IMAGE, status: EndAborted }, { type: TaskType.TASK_TYPE_IMAGE, status: EndAborted }, T), false)
  })
  it('a ScoreReady member without a score is an error, not a silent mismatch', () => {
    expectRuleError(() => membersMatch({ type: TaskType.TASK_TYPE_IMAGE, status: ScoreReady }, s(img(X)), T), 'INVALID_GROUP')
  })
})

describe('task/validation: one task, not sampled (crynux.md §1.3)', () => {
  it('ScoreReady → Validated', () => {
    assert.deepEqual(singleOutcome({ status: ScoreReady }), { status: TaskStatus.TASK_STATUS_VALIDATED, abortReason: AbortReason.ABORT_REASON_NONE })
  })
  it('ErrorReported → EndAborted(ErrorReported)', () => {
    assert.deepEqual(singleOutcome({ status: ErrorReported }), { status: EndAborted, abortReason: AbortReason.ABORT_REASON_ERROR_REPORTED })
  })
  it('any other state is rejected', () => {
    expectRuleError(() => singleOutcome({ status: TaskStatus.TASK_STATUS_STARTED }), 'INVALID_STATE', /only from ScoreReady or ErrorReported; it is Started/)
    expectRuleError(() => singleOutcome({ status: TaskStatus.TASK_STATUS_VALIDATED }), 'INVALID_STATE')
    expectRuleError(
      () => singleOutcome({ status: EndAborted, abortReason: AbortReason.ABORT_REASON_CREATOR_VALIDATION_TIMEOUT }),
      'INVALID_STATE',
      /EndAborted\(CreatorValidationTimeout\)/,
    )
  })
})

describe('task/validation: group outcome table, |F| = 3 (crynux.md §1.4)', () => {
  it('same1 ∧ same2: F0 → GroupValidated, F1 → EndGroupRefund, F2 → EndGroupRefund', () => {
    const r = groupOutcome(shuffled(scored('a', 10n, img(X)), scored('b', 20n, img(X ^ bits(5))), scored('c', 30n, img(X ^ bits(9, 30)))))
    expectGroup(r, { a: GV(10), b: GR(5), c: GR(2) })
    assert.deepEqual(r.ranked, ['a', 'b', 'c'])
    assert.equal(r.representative, 'a')
    assert.deepEqual(r.matching, [
      { id: 'a', node: 'node-a', qosScore: 10 },
      { id: 'b', node: 'node-b', qosScore: 5 },
      { id: 'c', node: 'node-c', qosScore: 2 },
    ])
  })

  it('same1 ∧ ¬same2: F0 → GroupValidated, F1 → EndGroupRefund, F2 → EndInvalidated', () => {
    const r = groupOutcome(shuffled(scored('a', 10n, img(X)), scored('b', 20n, img(X)), scored('c', 30n, img(FAR))))
    expectGroup(r, { a: GV(10), b: GR(5), c: INV })
    assert.deepEqual(
      r.matching.map((m) => m.id),
      ['a', 'b'],
    )
  })

  it('same1 ∧ ¬same2 ∧ same3 (images are not transitive): F1, which matches both, represents the group and nobody is invalidated', () => {
    // F1 sits between F0 and F2: d(F0,F1) = 12, d(F1,F2) = 12, d(F0,F2) = 24.
    const r = groupOutcome(shuffled(scored('a', 10n, img(X ^ bits(12))), scored('b', 20n, img(X)), scored('c', 30n, img(X ^ bits(12, 40)))))
    expectGroup(r, { a: GR(10), b: GV(5), c: GR(2) })
    assert.equal(r.representative, 'b')
    assert.deepEqual(
      r.matching.map((m) => m.id),
      ['b', 'a', 'c'],
    )
  })

  it('¬same1 ∧ same2: F0 → GroupValidated, F2 → EndGroupRefund, F1 → EndInvalidated', () => {
    const r = groupOutcome(shuffled(scored('a', 10n, img(X)), scored('b', 20n, img(FAR)), scored('c', 30n, img(X ^ bits(3)))))
    expectGroup(r, { a: GV(10), b: INV, c: GR(2) })
    assert.deepEqual(r.matching, [
      { id: 'a', node: 'node-a', qosScore: 10 },
      { id: 'c', node: 'node-c', qosScore: 2 },
    ])
  })

  it('¬same1 ∧ same2 ∧ same3 (images are not transitive): F2, which matches both, represents the group and nobody is invalidated', () => {
    // F2 sits between F0 and F1: d(F0,F2) = 12, d(F1,F2) = 12, d(F0,F1) = 24.
    const r = groupOutcome(shuffled(scored('a', 10n, img(X ^ bits(12))), scored('b', 20n, img(X ^ bits(12, 40))), scored('c', 30n, img(X))))
    expectGroup(r, { a: GR(10), b: GR(5), c: GV(2) })
    assert.equal(r.representative, 'c')
  })

  it('a lucky fake within the threshold of one honest score does not get the other honest node slashed (non-transitive pHash match)', () => {
    // The twin's case: the faker answers first (F0) with a random pHash 22 bits from honest A's;
    // A and B, two honest runs, are 22 bits apart; the fake is 28 bits from B. Crynux's table
    // (same1 ∧ ¬same2) made the fake the representative and slashed B.
    const fake = 0xf3dfa5a9ae4ebe48n,
      honestA = 0xe3d2e10fa52fab04n,
      honestB = 0xadf3838fe724e85dn
    const r = groupOutcome(shuffled(scored('fake', 10n, img(fake)), scored('A', 20n, img(honestA)), scored('B', 30n, img(honestB))))
    assert.notEqual(r.members.find((m) => m.id === 'B')!.status, EndInvalidated, 'honest B matched honest A and is not slashed')
    assert.equal(r.representative, 'A', 'the result delivered is the honest score both others matched')
    assert.ok(r.members.every((m) => m.status !== EndInvalidated))
  })

  it('¬same1 ∧ ¬same2 ∧ same3: F1 → GroupValidated, F2 → EndGroupRefund, F0 → EndInvalidated', () => {
    const r = groupOutcome(shuffled(scored('a', 10n, img(FAR)), scored('b', 20n, img(X)), scored('c', 30n, img(X ^ bits(23)))))
    expectGroup(r, { a: INV, b: GV(5), c: GR(2) })
    assert.equal(r.representative, 'b')
    assert.deepEqual(r.matching, [
      { id: 'b', node: 'node-b', qosScore: 5 },
      { id: 'c', node: 'node-c', qosScore: 2 },
    ])
  })

  it('no pair matches: all → EndAborted(IncorrectResult)', () => {
    const r = groupOutcome(shuffled(scored('a', 10n, img(X)), scored('b', 20n, img(FAR)), scored('c', 30n, img(X ^ bits(24, 8)))))
    expectGroup(r, { a: INCORRECT(10), b: INCORRECT(5), c: INCORRECT(2) })
    assert.equal(r.representative, null)
    assert.deepEqual(r.matching, [])
  })

  it('TEXT groups use exact equality in the same table', () => {
    const t = TaskType.TASK_TYPE_TEXT
    const r = groupOutcome(shuffled(scored('a', 10n, text(1), t), scored('b', 20n, text(2), t), scored('c', 30n, text(1), t)))
    expectGroup(r, { a: GV(10), b: INV, c: GR(2) })
    const almost = text(1)
    almost[0] = 0
    const r2 = groupOutcome(shuffled(scored('a', 10n, text(1), t), scored('b', 20n, almost, t), scored('c', 30n, text(3), t)))
    expectGroup(r2, { a: INCORRECT(10), b: INCORRECT(5), c: INCORRECT(2) })
  })
})

describe('task/validation: error reports in a group (crynux.md §1.4, "~" on status)', () => {
  // Beryl departs from Crynux's table here: an error report is never evidence against a score (the
  // arguments are checked at creation), so two colluding reporters cannot slash an honest node.
  it('two matching error reports + one score: nobody is slashed, all aborted and refunded (same1 row)', () => {
    const r = groupOutcome(shuffled(errored('a', 10n), errored('b', 20n), scored('c', 30n, img(X))))
    // F0 is not ScoreReady, so nobody is GroupValidated: the agreeing reports are aborted (refund).
    expectGroup(r, { a: INCORRECT(10), b: INCORRECT(5), c: INCORRECT(2) })
    assert.equal(r.representative, null)
  })

  it('two matching error reports + one score: nobody is slashed (same2 row)', () => {
    const r = groupOutcome(shuffled(errored('a', 10n), scored('b', 20n, img(X)), errored('c', 30n)))
    expectGroup(r, { a: INCORRECT(10), b: INCORRECT(5), c: INCORRECT(2) })
  })

  it('two matching error reports + one score: nobody is slashed, even when the score is fastest (same3 row)', () => {
    const r = groupOutcome(shuffled(scored('a', 10n, img(X)), errored('b', 20n), errored('c', 30n)))
    expectGroup(r, { a: INCORRECT(10), b: INCORRECT(5), c: INCORRECT(2) })
  })

  it('an error report that disagrees with two matching scores is EndInvalidated, at every rank', () => {
    const cases: [GroupMember[], Record<string, Expected>][] = [
      [[errored('a', 10n), scored('b', 20n, img(X)), scored('c', 30n, img(X))], { a: INV, b: GV(5), c: GR(2) }],
      [[scored('a', 10n, img(X)), errored('b', 20n), scored('c', 30n, img(X))], { a: GV(10), b: INV, c: GR(2) }],
      [[scored('a', 10n, img(X)), scored('b', 20n, img(X)), errored('c', 30n)], { a: GV(10), b: GR(5), c: INV }],
    ]
    for (const [members, expected] of cases) expectGroup(groupOutcome(members), expected)
  })

  it('three error reports: all → EndAborted(IncorrectResult) and nobody is refunded as a group member (our choice where the relay fails)', () => {
    const r = groupOutcome(shuffled(errored('a', 10n), errored('b', 20n), errored('c', 30n)))
    expectGroup(r, { a: INCORRECT(10), b: INCORRECT(5), c: INCORRECT(2) })
    assert.deepEqual(r.matching, [])
  })

  it('an error report, a score and a different score: no pair matches → all EndAborted(IncorrectResult)', () => {
    const r = groupOutcome(shuffled(errored('a', 10n), scored('b', 20n, img(X)), scored('c', 30n, img(FAR))))
    expectGroup(r, { a: INCORRECT(10), b: INCORRECT(5), c: INCORRECT(2) })
  })
})

describe('task/validation: group outcome table, |F| = 2 (crynux.md §1.4)', () => {
  it('F0 ~ F1, both ScoreReady → GroupValidated / EndGroupRefund; the aborted member stays EndAborted', () => {
    const r = groupOutcome([aborted('x', AbortReason.ABORT_REASON_TIMEOUT), scored('a', 40n, img(X ^ bits(7))), scored('b', 15n, img(X))])
    expectGroup(r, { b: GV(10), a: GR(5), x: [EndAborted, AbortReason.ABORT_REASON_TIMEOUT, 0, false] })
    assert.deepEqual(r.ranked, ['b', 'a'])
    assert.deepEqual(
      r.matching.map((m) => [m.id, m.qosScore]),
      [
        ['b', 10],
        ['a', 5],
      ],
    )
  })

  it('F0 ≁ F1 → both EndAborted(IncorrectResult)', () => {
    const r = groupOutcome([scored('a', 10n, img(X)), scored('b', 20n, img(FAR)), aborted('x', AbortReason.ABORT_REASON_TIMEOUT)])
    expectGroup(r, { a: INCORRECT(10), b: INCORRECT(5), x: [EndAborted, AbortReason.ABORT_REASON_TIMEOUT, 0, false] })
  })

  it('two matching error reports → both EndAborted(IncorrectResult)', () => {
    const r = groupOutcome([errored('a', 10n), errored('b', 20n), aborted('x', AbortReason.ABORT_REASON_TIMEOUT)])
    expectGroup(r, { a: INCORRECT(10), b: INCORRECT(5), x: [EndAborted, AbortReason.ABORT_REASON_TIMEOUT, 0, false] })
  })

  it('an error report and a score → both EndAborted(IncorrectResult); nobody is slashed without a majority', () => {
    const r = groupOutcome([errored('a', 10n), scored('b', 20n, img(X)), aborted('x', AbortReason.ABORT_REASON_TIMEOUT)])
    expectGroup(r, { a: INCORRECT(10), b: INCORRECT(5), x: [EndAborted, AbortReason.ABORT_REASON_TIMEOUT, 0, false] })
  })
})

describe('task/validation: group outcome table, |F| ≤ 1 (crynux.md §1.4)', () => {
  it('one finished member → EndAborted(GroupTimeout), the others unchanged', () => {
    const r = groupOutcome([aborted('x', AbortReason.ABORT_REASON_TIMEOUT), scored('a', 10n, img(X)), aborted('y', AbortReason.ABORT_REASON_NODE_SLASHED)])
    expectGroup(r, {
      a: [EndAborted, AbortReason.ABORT_REASON_GROUP_TIMEOUT, 10],
      x: [EndAborted, AbortReason.ABORT_REASON_TIMEOUT, 0, false],
      y: [EndAborted, AbortReason.ABORT_REASON_NODE_SLASHED, null, false],
    })
    assert.equal(r.representative, null)
  })

  it('one finished member that reported an error → EndAborted(GroupTimeout)', () => {
    const r = groupOutcome([errored('a', 10n), aborted('x', AbortReason.ABORT_REASON_TIMEOUT), aborted('y', AbortReason.ABORT_REASON_TIMEOUT)])
    expectGroup(r, {
      a: [EndAborted, AbortReason.ABORT_REASON_GROUP_TIMEOUT, 10],
      x: [EndAborted, AbortReason.ABORT_REASON_TIMEOUT, 0, false],
      y: [EndAborted, AbortReason.ABORT_REASON_TIMEOUT, 0, false],
    })
  })

  it('no finished member → nothing changes and no QoS score is given', () => {
    const r = groupOutcome([
      aborted('x', AbortReason.ABORT_REASON_TIMEOUT),
      aborted('y', AbortReason.ABORT_REASON_TIMEOUT),
      aborted('z', AbortReason.ABORT_REASON_CREATOR_CANCELLED),
    ])
    expectGroup(r, {
      x: [EndAborted, AbortReason.ABORT_REASON_TIMEOUT, null, false],
      y: [EndAborted, AbortReason.ABORT_REASON_TIMEOUT, null, false],
      z: [EndAborted, AbortReason.ABORT_REASON_CREATOR_CANCELLED, null, false],
    })
    assert.deepEqual(r.ranked, [])
  })
})

describe('task/validation: ranking and QoS scores (crynux.md §1.4, §5.2)', () => {
  it('ranks by execution time (scoreReadyTime − startTime), not by start or finish time', () => {
    // c started last and finished last but ran fastest.
    const a: GroupMember = {
      id: 'a',
      node: 'na',
      type: TaskType.TASK_TYPE_IMAGE,
      status: ScoreReady,
      score: img(X),
      sequence: 1n,
      startTime: 0n,
      scoreReadyTime: 50n,
    }
    const b: GroupMember = {
      id: 'b',
      node: 'nb',
      type: TaskType.TASK_TYPE_IMAGE,
      status: ScoreReady,
      score: img(X),
      sequence: 2n,
      startTime: 10n,
      scoreReadyTime: 40n,
    }
    const c: GroupMember = {
      id: 'c',
      node: 'nc',
      type: TaskType.TASK_TYPE_IMAGE,
      status: ScoreReady,
      score: img(X),
      sequence: 3n,
      startTime: 95n,
      scoreReadyTime: 100n,
    }
    const r = groupOutcome([a, b, c])
    assert.deepEqual(r.ranked, ['c', 'b', 'a'])
    expectGroup(r, { c: GV(10), b: GR(5), a: GR(2) })
  })

  it('breaks execution-time ties by sequence', () => {
    const m = (id: string, sequence: bigint): GroupMember => ({
      id,
      node: id,
      type: TaskType.TASK_TYPE_IMAGE,
      status: ScoreReady,
      score: img(X),
      sequence,
      startTime: 100n,
      scoreReadyTime: 130n,
    })
    assert.deepEqual(groupOutcome([m('a', 9n), m('b', 3n), m('c', 5n)]).ranked, ['b', 'c', 'a'])
  })

  it('a rank counts for a member whatever its outcome; an invalidated member scores 0', () => {
    const r = groupOutcome([scored('a', 10n, img(FAR)), scored('b', 20n, img(X)), scored('c', 30n, img(X))])
    assert.deepEqual(
      r.members.map((m) => m.qosScore),
      [0, 5, 2],
    )
  })

  it('an aborted member scores 0 only if it timed out and someone finished', () => {
    for (const reason of [AbortReason.ABORT_REASON_CREATOR_CANCELLED, AbortReason.ABORT_REASON_NODE_SLASHED, AbortReason.ABORT_REASON_RESULT_UPLOAD_TIMEOUT]) {
      const r = groupOutcome([aborted('x', reason), scored('a', 10n, img(X)), scored('b', 20n, img(X))])
      assert.equal(r.members[0]!.qosScore, null, AbortReason[reason])
    }
    const r = groupOutcome([aborted('x', AbortReason.ABORT_REASON_TIMEOUT), scored('a', 10n, img(X)), scored('b', 20n, img(X))])
    assert.equal(r.members[0]!.qosScore, 0)
  })

  it('returns the members in the order given', () => {
    const r = groupOutcome(shuffled(scored('a', 10n, img(X)), scored('b', 20n, img(X)), scored('c', 30n, img(X))))
    assert.deepEqual(
      r.members.map((m) => m.id),
      ['c', 'a', 'b'],
    )
  })

  it('uses the hamming threshold parameter', () => {
    const members = [scored('a', 10n, img(X)), scored('b', 20n, img(X ^ bits(10))), scored('c', 30n, img(X ^ bits(10, 20)))]
    expectGroup(groupOutcome(members, { hammingThreshold: 24 }), { a: GV(10), b: GR(5), c: GR(2) })
    expectGroup(groupOutcome(members, { hammingThreshold: 10 }), { a: INCORRECT(10), b: INCORRECT(5), c: INCORRECT(2) })
  })
})

describe('task/validation: group validations that are refused', () => {
  const ok = () => [scored('a', 10n, img(X)), scored('b', 20n, img(X)), scored('c', 30n, img(X))]

  it('a member already in EndAborted(CreatorValidationTimeout) refuses the group for good', () => {
    const members = [aborted('x', AbortReason.ABORT_REASON_CREATOR_VALIDATION_TIMEOUT), scored('a', 10n, img(X)), scored('b', 20n, img(X))]
    expectRuleError(() => groupOutcome(members), 'GROUP_VALIDATION_EXPIRED', /task x already ended in EndAborted\(CreatorValidationTimeout\)/)
    // …even if another member is in a state that would only be a temporary refusal.
    const started: GroupMember = { ...base('s', undefined), status: TaskStatus.TASK_STATUS_STARTED }
    expectRuleError(
      () => groupOutcome([started, aborted('x', AbortReason.ABORT_REASON_CREATOR_VALIDATION_TIMEOUT), scored('a', 10n, img(X))]),
      'GROUP_VALIDATION_EXPIRED',
    )
  })

  it('a member not yet finished, or already validated or settled, is refused', () => {
    for (const status of [
      TaskStatus.TASK_STATUS_QUEUED,
      TaskStatus.TASK_STATUS_STARTED,
      TaskStatus.TASK_STATUS_VALIDATED,
      GroupValidated,
      EndInvalidated,
      TaskStatus.TASK_STATUS_END_SUCCESS,
      EndGroupRefund,
      TaskStatus.TASK_STATUS_END_GROUP_SUCCESS,
    ]) {
      const members = ok()
      members[1] = { ...members[1]!, status }
      expectRuleError(() => groupOutcome(members), 'INVALID_STATE', new RegExp(`task b is ${statusName(status)}; a group is validated only when`))
    }
  })

  it('a group of other than 3 tasks is refused', () => {
    expectRuleError(() => groupOutcome(ok().slice(0, 2)), 'INVALID_GROUP', /has 3 tasks, got 2/)
    expectRuleError(() => groupOutcome([...ok(), scored('d', 40n, img(X))]), 'INVALID_GROUP', /got 4/)
  })

  it('duplicate ids or sequences are refused', () => {
    const m = ok()
    expectRuleError(() => groupOutcome([m[0]!, m[1]!, { ...m[2]!, id: 'a' }]), 'INVALID_GROUP', /task a appears twice/)
    expectRuleError(() => groupOutcome([m[0]!, m[1]!, { ...m[2]!, sequence: m[0]!.sequence }]), 'INVALID_GROUP', /sequence/)
  })

  it('mixed task types are refused', () => {
    const m = ok()
    m[2] = { ...m[2]!, type: TaskType.TASK_TYPE_TEXT, score: text(1) }
    expectRuleError(() => groupOutcome(m), 'INVALID_GROUP', /one task type/)
  })

  it('inconsistent members are refused', () => {
    const m = ok()
    expectRuleError(() => groupOutcome([m[0]!, m[1]!, { ...m[2]!, score: undefined }]), 'INVALID_GROUP', /ScoreReady without a score/)
    expectRuleError(() => groupOutcome([m[0]!, m[1]!, { ...m[2]!, startTime: undefined }]), 'INVALID_GROUP', /lacks startTime/)
    expectRuleError(() => groupOutcome([m[0]!, m[1]!, { ...m[2]!, scoreReadyTime: 0n }]), 'INVALID_GROUP', /before startTime/)
    expectRuleError(() => groupOutcome([m[0]!, m[1]!, { ...m[2]!, status: EndAborted, abortReason: undefined }]), 'INVALID_GROUP', /without an abort reason/)
    expectRuleError(() => groupOutcome([m[0]!, m[1]!, { ...m[2]!, sequence: 3 as unknown as bigint }]), 'INVALID_GROUP', /bigint/)
  })

  it('a bad threshold is refused', () => {
    expectRuleError(() => groupOutcome(ok(), { hammingThreshold: -1 }), 'INVALID_ARGUMENT')
  })
})
