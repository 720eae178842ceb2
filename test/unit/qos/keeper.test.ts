import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { toBech32 } from '@cosmjs/encoding'
import { MemoryStore } from '../../../chain/store/memory.ts'
import { berylModules } from '../../../modules/index.ts'
import { EXCLUDE_EXIT, QOS_SCALE, effectiveHealth, secondsUntilHealth } from '../../../modules/qos/math.ts'
import { deliverContext } from '../../helpers/context.ts'

const MODEL = 'cd'.repeat(32)
/** Every serving node of the model, whatever its GPU and runner. */
const ANY = { modelIds: [MODEL], minVramGb: 0, requiredGpu: '', taskVersion: '' }
const addr = (i: number) => toBech32('beryl', createHash('sha256').update(`node${i}`).digest().subarray(0, 20))

describe('qos keeper: scores, health, exclusion and kick-out, feeding dispatch', () => {
  const store = new MemoryStore()
  const { keepers } = berylModules()
  let now = 1_700_000_000n
  const ctx = (t = now) => deliverContext(store, t)

  before(() => {
    for (let i = 0; i < 4; i++) {
      keepers.bank.initBalance(ctx(), addr(i), [{ denom: 'uberyl', amount: 1_000_000_000n }])
      keepers.staking.join(ctx(), {
        address: addr(i),
        gpuName: 'NVIDIA GeForce RTX 4090',
        gpuVramGb: 24,
        runnerVersion: '1.0.0',
        modelIds: [MODEL],
        stake: '400000000',
      })
    }
  })

  it('a new node has Q_long 5.0 and health 1: QoS 0.5', async () => {
    assert.equal(keepers.qos.value(ctx(), addr(0), now), QOS_SCALE / 2n)
    assert.equal(await keepers.task.eligibleCount(ctx(), ANY), 4n)
  })

  it('group scores enter the window; Q_long is their mean', () => {
    keepers.qos.recordScore(ctx(), addr(1), 10n)
    keepers.qos.recordScore(ctx(), addr(1), 5n)
    const q = keepers.qos.get(ctx(), addr(1))
    assert.deepEqual(q.scores, [10, 5])
    assert.equal(keepers.qos.qLong(q), (75n * QOS_SCALE) / 10n)
  })

  it('a first timeout costs ×0.95; the next ones ×0.3; below 0.2 the node leaves the dispatch index', async () => {
    keepers.qos.penalizeTimeout(ctx(), addr(2))
    let q = keepers.qos.get(ctx(), addr(2))
    assert.equal(q.healthBase, ((95n * QOS_SCALE) / 100n).toString())
    assert.equal(q.excluded, false)
    now += 10n
    const h1 = effectiveHealth(BigInt(q.healthBase), q.healthBaseTime, now)
    keepers.qos.penalizeTimeout(ctx(), addr(2))
    q = keepers.qos.get(ctx(), addr(2))
    assert.equal(q.healthBase, ((h1 * 3n) / 10n).toString(), 'H_eff × 0.3, floored')
    assert.equal(q.excluded, false, 'about 0.285: not yet below 0.2')
    now += 10n
    const h2 = effectiveHealth(BigInt(q.healthBase), q.healthBaseTime, now)
    keepers.qos.penalizeTimeout(ctx(), addr(2))
    q = keepers.qos.get(ctx(), addr(2))
    assert.equal(q.healthBase, ((h2 * 3n) / 10n).toString())
    assert.equal(q.excluded, true)
    assert.equal(q.excludedUntil, now + secondsUntilHealth(BigInt(q.healthBase), EXCLUDE_EXIT))
    assert.equal(await keepers.task.eligibleCount(ctx(), ANY), 3n, 'out of the dispatch index')
  })

  it('the node comes back exactly when its health has recovered to 0.8, not a second before', async () => {
    const q = keepers.qos.get(ctx(), addr(2))
    await keepers.qos.reinclude(ctx(q.excludedUntil - 1n))
    assert.equal(keepers.qos.isExcluded(ctx(), addr(2)), true)
    assert.ok(effectiveHealth(BigInt(q.healthBase), q.healthBaseTime, q.excludedUntil - 1n) < EXCLUDE_EXIT)
    assert.ok(effectiveHealth(BigInt(q.healthBase), q.healthBaseTime, q.excludedUntil) >= EXCLUDE_EXIT)
    await keepers.qos.reinclude(ctx(q.excludedUntil))
    assert.equal(keepers.qos.isExcluded(ctx(), addr(2)), false)
    assert.equal(await keepers.task.eligibleCount(ctx(), ANY), 4n, 'back in the dispatch index')
  })

  it('a success adds 0.15 to health, at most 1', () => {
    now += 1n
    const q = keepers.qos.get(ctx(), addr(2))
    const h = effectiveHealth(BigInt(q.healthBase), q.healthBaseTime, now)
    keepers.qos.reward(ctx(), addr(2))
    assert.equal(keepers.qos.get(ctx(), addr(2)).healthBase, (h + (15n * QOS_SCALE) / 100n).toString())
    keepers.qos.reward(ctx(), addr(0))
    assert.equal(keepers.qos.get(ctx(), addr(0)).healthBase, QOS_SCALE.toString())
  })

  it('a better score record gives a higher QoS value (the Q of the dispatch weight)', () => {
    // addr(1) has Q_long 7.5 (> 5.0): its QoS is above a new node's.
    const w = (i: number) => keepers.qos.value(ctx(), addr(i), now)
    assert.ok(w(1) > w(3))
  })

  it('kick-out: 50 samples with Q_long below 2.0 remove the node and return its stake', async () => {
    const before = keepers.bank.balance(ctx(), addr(3), 'uberyl')
    for (let i = 0; i < 49; i++) keepers.qos.recordScore(ctx(), addr(3), 2n)
    keepers.qos.recordScore(ctx(), addr(3), 0n) // 50 samples, mean 98/50 = 1.96
    assert.equal(keepers.staking.getNode(ctx(), addr(3)), undefined)
    assert.equal(keepers.bank.balance(ctx(), addr(3), 'uberyl'), before + 400_000_000n)
    assert.equal(keepers.qos.get(ctx(), addr(3)).scores.length, 0, 'its record is forgotten')
    assert.equal(await keepers.task.eligibleCount(ctx(), ANY), 3n)
  })

  it('49 low samples are not enough to kick out', () => {
    for (let i = 0; i < 49; i++) keepers.qos.recordScore(ctx(), addr(0), 0n)
    assert.ok(keepers.staking.getNode(ctx(), addr(0)))
  })
})
