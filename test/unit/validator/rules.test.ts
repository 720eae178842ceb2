import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { setUpdates } from '../../../modules/validator/activeset.ts'
import { isDown, maxMissed } from '../../../modules/validator/liveness.ts'
import { commission, splitByPower } from '../../../modules/validator/rewards.ts'

/** A deterministic pseudo-random bigint stream (the test must be the same on every run). */
function* numbers(seed: string): Generator<bigint> {
  for (let i = 0; ; i++) yield BigInt('0x' + createHash('sha256').update(`${seed}/${i}`).digest('hex').slice(0, 12))
}

describe('validator rules: fee split, set updates, liveness threshold', () => {
  it('each share is the largest integer not above F·p/P, and shares plus remainder are exactly F', () => {
    const r = numbers('split')
    for (let round = 0; round < 500; round++) {
      const n = Number(r.next().value % 7n) + 1
      const powers = Array.from({ length: n }, () => r.next().value % 100000n)
      const fees = r.next().value % 10n ** 12n
      const total = powers.reduce((a, p) => a + p, 0n)
      const { shares, remainder } = splitByPower(fees, powers)
      assert.equal(shares.reduce((a, s) => a + s, 0n) + remainder, fees)
      if (total === 0n) {
        assert.equal(remainder, fees)
        continue
      }
      // Independent check by cross-multiplication: share·P ≤ F·p < (share+1)·P.
      shares.forEach((s, i) => {
        assert.ok(s * total <= fees * powers[i]! && fees * powers[i]! < (s + 1n) * total)
      })
      assert.ok(remainder >= 0n && remainder < BigInt(n))
    }
  })

  it('commission rounds down and never exceeds the share', () => {
    assert.equal(commission(1_000_000n, 50_000), 50_000n)
    assert.equal(commission(19n, 500_000), 9n)
    assert.equal(commission(7n, 1_000_000), 7n)
  })

  it('updates list new members and changed powers, and power 0 for those who left; nothing when nothing changed', () => {
    const k = (n: number) => Uint8Array.of(n)
    const v = (n: number, power: bigint) => ({ account: `a${n}`, power, consensusPubkey: k(n) })
    assert.deepEqual(setUpdates([v(1, 5n), v(2, 5n)], [v(2, 5n), v(1, 5n)]), [])
    assert.deepEqual(
      setUpdates([v(1, 5n), v(2, 5n), v(3, 1n)], [v(1, 5n), v(2, 6n), v(4, 2n)]).map((u) => [u.account, u.power]),
      [
        ['a2', 6n],
        ['a3', 0n],
        ['a4', 2n],
      ],
    )
  })

  it('a validator is down once counted past the window with more than the allowed misses', () => {
    assert.equal(maxMissed(100n, 500_000), 50n)
    assert.equal(isDown(100n, 51n, 100n, 500_000), false) // not yet past the window
    assert.equal(isDown(101n, 50n, 100n, 500_000), false)
    assert.equal(isDown(101n, 51n, 100n, 500_000), true)
  })
})
