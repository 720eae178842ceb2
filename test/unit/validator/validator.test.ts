import assert from 'node:assert/strict'
import { QueryValidatorsRequest, QueryValidatorsResponse } from 'cosmjs-types/cosmos/staking/v1beta1/query'
import { BondStatus } from 'cosmjs-types/cosmos/staking/v1beta1/staking'
import { QueryDelegationRewardsRequest, QueryDelegationRewardsResponse } from 'cosmjs-types/cosmos/distribution/v1beta1/query'
import { openApp } from '../../helpers/chain.ts'
import { BERYL, T0, consKey, genTx, sharedWallets, validatorChain } from './chain.ts'

const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex')
const SELF_BOND = 2000n * BERYL
const PARAMS = {
  min_self_bond: String(1000n * BERYL),
  unbonding_period: '100',
  signed_blocks_window: '10',
  max_missed_ppm: '500000',
  downtime_jail_seconds: '60',
  max_validators: 3,
}

describe('validator: the bonded set, its updates to CometBFT, slashing and fee rewards', function () {
  this.timeout(60_000)
  const c = validatorChain()
  afterEach(async () => {
    await c.close()
  })

  /** A chain whose genesis ceremony made w[0..n-1] validators v0..v(n-1) with SELF_BOND each. */
  async function ceremony(n: number, wallets = 6, params: Record<string, unknown> = PARAMS) {
    const w = await sharedWallets(wallets)
    const genTxs = await Promise.all(w.slice(0, n).map((x, i) => genTx(i, x.address, SELF_BOND)))
    return c.start(wallets, { params, gen_txs: genTxs })
  }
  const votes = (names: string[], missing: string[] = []) => names.map((name) => ({ name, power: SELF_BOND / BERYL, signed: !missing.includes(name) }))

  it("the genesis ceremony bonds each gentx's self-bond and returns the set to InitChain", async () => {
    const res = await ceremony(3)
    assert.deepEqual(res.validators!.map((v) => [hex(v.pubKey!.ed25519), v.power]).sort(), ['v0', 'v1', 'v2'].map((n) => [hex(consKey(n)), 2000n]).sort())
    await c.block()
    const v0 = await c.validator(c.env.w[0]!.address)
    assert.equal(v0?.validator?.bonded, SELF_BOND.toString())
    assert.equal(v0?.active, true)
    assert.equal(await c.balance(c.env.w[0]!.address), 100_000_000_000n - SELF_BOND)
    assert.equal((await c.pools()).bonded, (3n * SELF_BOND).toString())
  })

  it('a gentx whose signature does not verify for this chain stops genesis', async () => {
    const w = await sharedWallets(2)
    const other = await genTx(0, w[0]!.address, SELF_BOND, 'v0', 'another-chain')
    await assert.rejects(c.start(2, { params: PARAMS, gen_txs: [other] }), /gen_txs\[0\].*does not verify/)
    await c.close()
    const tooSmall = await genTx(0, w[0]!.address, 10n * BERYL)
    await assert.rejects(c.start(2, { params: PARAMS, gen_txs: [tooSmall] }), /below the minimum/)
  })

  it('updates go to CometBFT only when the set or a power changes', async () => {
    await ceremony(2)
    const w = c.env.w
    assert.deepEqual((await c.block()).validatorUpdates, [])
    const joined = await c.block([c.create(w[3]!, 'v3', 1500n * BERYL)])
    assert.equal(joined.txResults![0]!.code, 0, joined.txResults![0]!.log)
    assert.deepEqual(
      joined.validatorUpdates!.map((u) => [hex(u.pubKey!.ed25519), u.power]),
      [[hex(consKey('v3')), 1500n]],
    )
    assert.deepEqual((await c.block()).validatorUpdates, [])
    const bonded = await c.block([[w[3]!, c.msg('MsgBond', { account: w[3]!.address, amount: String(600n * BERYL) })]])
    assert.deepEqual(
      bonded.validatorUpdates!.map((u) => u.power),
      [2100n],
    )
  })

  it('the active set is the top max_validators by power; a validator pushed out gets power 0', async () => {
    await ceremony(3)
    const w = c.env.w
    await c.block()
    const r = await c.block([c.create(w[3]!, 'v3', 5000n * BERYL)])
    // v3 enters with 5000; the three at 2000 tie and the highest account bytes of them leaves.
    const updates = r.validatorUpdates!.map((u) => [hex(u.pubKey!.ed25519), u.power])
    assert.equal(updates.length, 2)
    assert.deepEqual(
      updates.find((u) => u[0] === hex(consKey('v3'))),
      [hex(consKey('v3')), 5000n],
    )
    const out = updates.find((u) => u[1] === 0n)!
    const set = (await c.activeSet()).validators
    assert.equal(set.length, 3)
    assert.ok(!set.some((v) => hex(v.consensusPubkey) === out[0]))
    assert.equal((await c.activeSet()).totalPower, 5000n + 2000n + 2000n)
  })

  it('unbonding below the minimum self-bond leaves the set; the stake returns after the unbonding period', async () => {
    await ceremony(2)
    const w = c.env.w
    await c.block()
    const before = await c.balance(w[1]!.address)
    const r = await c.block([[w[1]!, c.msg('MsgUnbond', { account: w[1]!.address, amount: String(1500n * BERYL) })]])
    assert.equal(r.txResults![0]!.code, 0, r.txResults![0]!.log)
    assert.deepEqual(
      r.validatorUpdates!.map((u) => [hex(u.pubKey!.ed25519), u.power]),
      [[hex(consKey('v1')), 0n]],
    )
    assert.equal((await c.validator(w[1]!.address))?.unbonding.length, 1)
    await c.block([], { dt: 50n })
    assert.equal(await c.balance(w[1]!.address), before - 10000n)
    await c.block([], { dt: 60n })
    assert.equal(await c.balance(w[1]!.address), before - 10000n + 1500n * BERYL)
    assert.equal((await c.validator(w[1]!.address))?.unbonding.length, 0)
  })

  it('bad messages are rejected with the validator codespace and never applied', async () => {
    await ceremony(1)
    const w = c.env.w
    await c.block()
    const r = await c.block([
      c.create(w[2]!, 'short', 2000n * BERYL, { consensusPubkey: new Uint8Array(31) }),
      c.create(w[3]!, 'v0', 2000n * BERYL), // v0's consensus key again
      c.create(w[4]!, 'small', 10n * BERYL),
      [w[0]!, c.msg('MsgUnbond', { account: w[0]!.address, amount: String(9999n * BERYL) })],
      [w[0]!, c.msg('MsgUnjail', { account: w[0]!.address })],
    ])
    assert.deepEqual(
      r.txResults!.map((x) => [x.codespace, x.code]),
      [
        ['validator', 6],
        ['validator', 7],
        ['validator', 4],
        ['validator', 9],
        ['validator', 11],
      ],
    )
    assert.equal(await c.validator(w[3]!.address), undefined)
  })

  it('double signing slashes the bond and the unbonding stake bonded at the infraction, and tombstones', async () => {
    await ceremony(3)
    const w = c.env.w
    await c.block()
    await c.block() // height 2: the infraction height below
    const unbond = await c.block([[w[0]!, c.msg('MsgUnbond', { account: w[0]!.address, amount: String(1000n * BERYL) })]]) // height 3
    assert.equal(unbond.txResults![0]!.code, 0)
    const poolBefore = await c.moduleBalance('community_pool')
    const supplyBefore = await c.supply()
    const r = await c.block([], { evidence: [{ name: 'v0', power: 2000n, height: 2n, timeSeconds: T0 + 2n }] })
    const v = (await c.validator(w[0]!.address))!
    // 5% of the 1000 BERYL still bonded and of the 1000 BERYL unbonding since height 3 (> 2).
    const taken = ((1000n * BERYL * 50_000n) / 1_000_000n) * 2n
    assert.equal(v.validator!.slashed, taken.toString())
    assert.equal(v.validator!.bonded, (1000n * BERYL - (1000n * BERYL * 50_000n) / 1_000_000n).toString())
    assert.equal(v.unbonding[0]!.amount, (1000n * BERYL - (1000n * BERYL * 50_000n) / 1_000_000n).toString())
    assert.equal(v.validator!.tombstoned, true)
    assert.equal(v.validator!.jailed, true)
    assert.equal(await c.moduleBalance('community_pool'), poolBefore + taken)
    assert.equal(await c.supply(), supplyBefore)
    assert.deepEqual(
      r.validatorUpdates!.map((u) => [hex(u.pubKey!.ed25519), u.power]),
      [[hex(consKey('v0')), 0n]],
    )
    // Evidence for the same validator again changes nothing; unjail is refused for good.
    await c.block([], { evidence: [{ name: 'v0', power: 2000n, height: 2n, timeSeconds: T0 + 2n }] })
    assert.equal((await c.validator(w[0]!.address))!.validator!.slashed, taken.toString())
    const u = await c.block([[w[0]!, c.msg('MsgUnjail', { account: w[0]!.address })]], { dt: 100_000n })
    assert.deepEqual([u.txResults![0]!.codespace, u.txResults![0]!.code], ['validator', 13])
  })

  it('evidence before the unbonding started does not touch that unbonding stake', async () => {
    await ceremony(2)
    const w = c.env.w
    await c.block()
    await c.block()
    await c.block([[w[0]!, c.msg('MsgUnbond', { account: w[0]!.address, amount: String(1000n * BERYL) })]]) // height 3
    await c.block([], { evidence: [{ name: 'v0', power: 2000n, height: 3n, timeSeconds: T0 + 3n }] })
    const v = (await c.validator(w[0]!.address))!
    assert.equal(v.unbonding[0]!.amount, String(1000n * BERYL))
  })

  it('missing more than max_missed of the window jails with a small slash; unjail after the jail period restores the power', async () => {
    await ceremony(3)
    const w = c.env.w
    const all = ['v0', 'v1', 'v2']
    await c.block()
    // Window 10, max missed 5: v2 signs nothing from height 2 on.
    let jailedAt = 0n
    for (let i = 0; i < 14 && jailedAt === 0n; i++) {
      const r = await c.block([], { votes: votes(all, ['v2']) })
      if (r.validatorUpdates!.length) {
        assert.deepEqual(
          r.validatorUpdates!.map((u) => [hex(u.pubKey!.ed25519), u.power]),
          [[hex(consKey('v2')), 0n]],
        )
        jailedAt = c.env.height
      }
    }
    // Counted from height 2: the 11th counted block (height 12) is the first past the window.
    assert.equal(jailedAt, 12n)
    const v = (await c.validator(w[2]!.address))!.validator!
    assert.equal(v.jailed, true)
    assert.equal(v.tombstoned, false)
    assert.equal(v.slashed, ((SELF_BOND * 100n) / 1_000_000n).toString())
    const early = await c.block([[w[2]!, c.msg('MsgUnjail', { account: w[2]!.address })]], { votes: votes(all.slice(0, 2)) })
    assert.deepEqual([early.txResults![0]!.codespace, early.txResults![0]!.code], ['validator', 12])
    const r = await c.block([[w[2]!, c.msg('MsgUnjail', { account: w[2]!.address })]], { votes: votes(all.slice(0, 2)), dt: 61n })
    assert.equal(r.txResults![0]!.code, 0, r.txResults![0]!.log)
    assert.deepEqual(
      r.validatorUpdates!.map((u) => [hex(u.pubKey!.ed25519), u.power]),
      [[hex(consKey('v2')), BigInt(v.bonded) / BERYL]],
    )
    assert.equal((await c.validator(w[2]!.address))!.signingInfo!.missedBlocks, 0n)
  })

  it('a validator that signs keeps its place: occasional misses below the threshold never jail', async () => {
    await ceremony(2)
    await c.block()
    for (let i = 0; i < 30; i++) {
      const r = await c.block([], { votes: votes(['v0', 'v1'], i % 3 === 0 ? ['v1'] : []) })
      assert.deepEqual(r.validatorUpdates, [])
    }
    assert.equal((await c.validator(c.env.w[1]!.address))!.validator!.jailed, false)
  })

  it('the last validator is never jailed out of the set (CometBFT would halt on an empty set)', async () => {
    await ceremony(1)
    await c.block()
    for (let i = 0; i < 12; i++) {
      const r = await c.block([], { votes: votes(['v0'], ['v0']) })
      assert.deepEqual(r.validatorUpdates, [])
    }
    assert.equal((await c.activeSet()).validators.length, 1)
  })

  it('fees go to the active set by power, ⌊F·p/P⌋ each, the remainder waiting in the fee collector; withdrawals conserve supply', async () => {
    const w0 = await sharedWallets(6)
    const bonds = [1000n, 2000n, 4000n].map((b) => b * BERYL)
    const genTxs = await Promise.all(bonds.map((b, i) => genTx(i, w0[i]!.address, b)))
    await c.start(6, { params: PARAMS, gen_txs: genTxs })
    const w = c.env.w
    await c.block()
    const supply = await c.supply()
    const paid = new Map<string, bigint>()
    let carried = 0n
    // Fees of block h are distributed at the start of block h+1, from the set as CometBFT knows it.
    const fees = [12345n, 1n, 99999n, 7n]
    for (const fee of fees) {
      await c.block(
        [
          [
            w[5]!,
            {
              typeUrl: '/cosmos.bank.v1beta1.MsgSend',
              value: { fromAddress: w[5]!.address, toAddress: w[4]!.address, amount: [{ denom: 'uberyl', amount: '1' }] },
            },
          ],
        ],
        { fee: fee.toString() },
      )
      const F = fee + carried
      const P = 7000n
      let sum = 0n
      for (const [i, b] of bonds.entries()) {
        const share = (F * (b / BERYL)) / P
        paid.set(w[i]!.address, (paid.get(w[i]!.address) ?? 0n) + share)
        sum += share
      }
      carried = F - sum
      await c.block() // distributes `fee`
      assert.equal((await c.pools()).feeCollector, carried.toString())
    }
    for (const i of [0, 1, 2]) assert.equal((await c.validator(w[i]!.address))!.validator!.rewards, paid.get(w[i]!.address)!.toString())
    // The Cosmos distribution query says the same, as a Dec.
    const q = await c.query(
      '/cosmos.distribution.v1beta1.Query/DelegationRewards',
      QueryDelegationRewardsRequest.encode({
        delegatorAddress: w[2]!.address,
        validatorAddress: (await c.validator(w[2]!.address))!.validator!.operatorAddress,
      }).finish(),
    )
    assert.equal(QueryDelegationRewardsResponse.decode(q.value!).rewards[0]!.amount, (paid.get(w[2]!.address)! * 10n ** 18n).toString())
    const before = await c.balance(w[2]!.address)
    const r = await c.block([[w[2]!, c.msg('MsgWithdrawRewards', { account: w[2]!.address })]], { fee: '0' })
    assert.equal(r.txResults![0]!.code, 0, r.txResults![0]!.log)
    assert.equal(await c.balance(w[2]!.address), before + paid.get(w[2]!.address)!)
    assert.equal((await c.validator(w[2]!.address))!.validator!.rewards, '0')
    const p = await c.pools()
    const balances = await Promise.all(w.map((x) => c.balance(x.address)))
    assert.equal(
      balances.reduce((a, b) => a + b, 0n) + BigInt(p.bonded) + BigInt(p.outstandingRewards) + BigInt(p.feeCollector) + BigInt(p.communityPool),
      supply,
    )
    assert.equal(await c.supply(), supply)
  })

  it('cosmos.staking.v1beta1.Query/Validators lists every validator with its status, tokens and consensus key', async () => {
    await ceremony(3, 6, { ...PARAMS, max_validators: 2 })
    await c.block()
    const r = await c.query('/cosmos.staking.v1beta1.Query/Validators', QueryValidatorsRequest.encode({ status: '' }).finish())
    const vs = QueryValidatorsResponse.decode(r.value!).validators
    assert.equal(vs.length, 3)
    assert.deepEqual(vs.map((v) => v.status).sort(), [BondStatus.BOND_STATUS_UNBONDED, BondStatus.BOND_STATUS_BONDED, BondStatus.BOND_STATUS_BONDED].sort())
    assert.ok(
      vs.every(
        (v) =>
          v.operatorAddress.startsWith('berylvaloper1') && v.tokens === SELF_BOND.toString() && v.consensusPubkey?.typeUrl === '/cosmos.crypto.ed25519.PubKey',
      ),
    )
    const bonded = await c.query('/cosmos.staking.v1beta1.Query/Validators', QueryValidatorsRequest.encode({ status: 'BOND_STATUS_BONDED' }).finish())
    assert.equal(QueryValidatorsResponse.decode(bonded.value!).validators.length, 2)
  })

  it('export and import keep validators, bonds, unbonding and the active set', async () => {
    await ceremony(3)
    const w = c.env.w
    await c.block()
    await c.block([[w[0]!, c.msg('MsgUnbond', { account: w[0]!.address, amount: String(500n * BERYL) })]])
    await c.block() // pays the unbond's fee out
    const exported = await c.env.app.exportGenesis()
    const { app, close } = await openApp()
    try {
      const res = await app.initChain({
        time: { seconds: T0 + 100n, nanos: 0 },
        chainId: 'beryl-unit-1',
        consensusParams: { block: { maxBytes: 22020096n, maxGas: 100_000_000n } } as never,
        validators: [],
        appStateBytes: Buffer.from(JSON.stringify(exported.appState)),
        initialHeight: exported.height + 1n,
      })
      assert.deepEqual(
        res.validators!.map((v) => [hex(v.pubKey!.ed25519), v.power]).sort(),
        [
          ['v0', 1500n],
          ['v1', 2000n],
          ['v2', 2000n],
        ]
          .map(([n, p]) => [hex(consKey(n as string)), p])
          .sort(),
      )
      const { blockRequest } = await import('../../helpers/chain.ts')
      await app.finalizeBlock(blockRequest(exported.height + 1n, [], { timeSeconds: T0 + 101n }))
      await app.commit()
      const again = await app.exportGenesis()
      assert.deepEqual((again.appState as Record<string, unknown>).validator, (exported.appState as Record<string, unknown>).validator)
    } finally {
      await close()
    }
  })
})
