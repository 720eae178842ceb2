import assert from 'node:assert/strict'
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import { QueryBalanceRequest, QueryBalanceResponse, QueryTotalSupplyResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query'
import { QueryAccountRequest, QueryAccountResponse } from 'cosmjs-types/cosmos/auth/v1beta1/query'
import { BaseAccount } from 'cosmjs-types/cosmos/auth/v1beta1/auth'
import type { BerylApp } from '../../../chain/app.ts'
import { moduleAddress } from '../../../modules/auth/index.ts'
import { blockRequest, initChain, openApp, send, wallets, type Wallet } from '../../helpers/chain.ts'

describe('transaction rules (ante, gas, fees, sequences)', function () {
  this.timeout(60_000)
  let app: BerylApp, close: () => Promise<void>
  let w: Wallet[]
  let height = 0n

  const balance = async (address: string) => {
    const r = await app.query({
      path: '/cosmos.bank.v1beta1.Query/Balance',
      data: QueryBalanceRequest.encode({ address, denom: 'uberyl' }).finish(),
      height: 0n,
      prove: false,
    })
    return BigInt(QueryBalanceResponse.decode(r.value!).balance!.amount)
  }
  const sequence = async (address: string) => {
    const r = await app.query({ path: '/cosmos.auth.v1beta1.Query/Account', data: QueryAccountRequest.encode({ address }).finish(), height: 0n, prove: false })
    return BaseAccount.decode(QueryAccountResponse.decode(r.value!).account!.value).sequence
  }
  const block = async (txs: Uint8Array[]) => {
    const r = await app.finalizeBlock(blockRequest(++height, txs))
    await app.commit()
    return r.txResults!
  }
  const check = (tx: Uint8Array) => app.checkTx({ tx, type: 0 })

  beforeEach(async () => {
    w = await wallets()
    ;({ app, close } = await openApp())
    await initChain(
      app,
      w.map((x) => x.address),
    )
    height = 0n
    await block([])
  })
  afterEach(async () => {
    await close()
  })

  it('CheckTx accepts a valid tx between InitChain and the first commit', async () => {
    const fresh = await openApp()
    try {
      await initChain(
        fresh.app,
        w.map((x) => x.address),
      )
      const r = await fresh.app.checkTx({ tx: await w[0]!.sign([send(w[0]!.address, w[1]!.address, '1')], 0), type: 0 })
      assert.equal(r.code, 0, r.log)
    } finally {
      await fresh.close()
    }
  })

  it('a valid send passes CheckTx and executes in the block', async () => {
    const tx = await w[0]!.sign([send(w[0]!.address, w[1]!.address, '700')], 0)
    assert.equal((await check(tx)).code, 0)
    const [r] = await block([tx])
    assert.equal(r!.code, 0, r!.log)
    assert.equal(await balance(w[1]!.address), 1_000_000_700n)
    assert.equal(await balance(w[0]!.address), 1_000_000_000n - 700n - 10_000n)
    assert.equal(await balance(moduleAddress('fee_collector')), 10_000n)
  })

  it('CheckTx tracks sequences across several txs of one account before a block', async () => {
    assert.equal((await check(await w[0]!.sign([send(w[0]!.address, w[1]!.address, '1')], 0))).code, 0)
    assert.equal((await check(await w[0]!.sign([send(w[0]!.address, w[1]!.address, '1')], 1))).code, 0)
    assert.equal((await check(await w[0]!.sign([send(w[0]!.address, w[1]!.address, '1')], 3))).code, 32)
  })

  it('after Commit the check state restarts from committed state (RECHECK drops a stale tx)', async () => {
    const t0 = await w[0]!.sign([send(w[0]!.address, w[1]!.address, '1')], 0)
    assert.equal((await check(t0)).code, 0)
    await block([t0])
    assert.equal((await app.checkTx({ tx: t0, type: 1 })).code, 32)
  })

  it('memo over 256 characters → 12', async () => {
    const r = await check(await w[0]!.sign([send(w[0]!.address, w[1]!.address, '1')], 0, { memo: 'x'.repeat(257) }))
    assert.equal(r.code, 12)
  })

  it('a fee in another denom → 10, a zero gas limit → 41', async () => {
    const wrong = await w[0]!.sign([send(w[0]!.address, w[1]!.address, '1')], 0, { feeDenom: 'ufoo' })
    const r = await check(wrong)
    assert.equal(r.code, 10)
    assert.match(r.log!, /fees are paid in uberyl, not ufoo/)
    const zeroGas = await w[0]!.sign([send(w[0]!.address, w[1]!.address, '1')], 0, { gas: '0' })
    assert.equal((await check(zeroGas)).code, 41)
  })

  it('an unknown message type → 2 (tx parse)', async () => {
    const tx = await w[0]!.sign(
      [
        {
          typeUrl: '/cosmos.staking.v1beta1.MsgDelegate',
          value: { delegatorAddress: w[0]!.address, validatorAddress: 'x', amount: { denom: 'uberyl', amount: '1' } },
        },
      ],
      0,
    )
    const r = await check(tx)
    assert.equal(r.code, 2)
    assert.match(r.log!, /unable to resolve type URL \/cosmos\.staking\.v1beta1\.MsgDelegate/)
  })

  it('invalid coins in a message → 10, and nothing is charged for a tx that fails its checks', async () => {
    const tx = await w[0]!.sign([send(w[0]!.address, w[1]!.address, '0')], 0)
    assert.equal((await check(tx)).code, 10)
    const [r] = await block([tx])
    assert.equal(r!.code, 10)
    assert.equal(await balance(w[0]!.address), 1_000_000_000n)
    assert.equal(await sequence(w[0]!.address), 0n)
  })

  it('sending to a module account is refused (bank code 3)', async () => {
    const [r] = await block([await w[0]!.sign([send(w[0]!.address, moduleAddress('fee_collector'), '5')], 0)])
    assert.equal(r!.codespace, 'bank')
    assert.equal(r!.code, 3)
  })

  it('out of gas while running messages → 11; only the fee and sequence are kept', async () => {
    // Find the smallest gas limit the ante accepts: CheckTx runs exactly the ante.
    let lo = 1000n,
      hi = 200_000n
    while (lo < hi) {
      const mid = (lo + hi) / 2n
      const r = await check(await w[0]!.sign([send(w[0]!.address, w[1]!.address, '77')], 0, { gas: String(mid), fee: '10000' }))
      if (r.code === 0) {
        hi = mid
        await block([]) /* resets the check state's sequence */
      } else {
        assert.equal(r.code, 11)
        lo = mid + 1n
      }
    }
    const tx = await w[0]!.sign([send(w[0]!.address, w[1]!.address, '77')], 0, { gas: String(lo), fee: '10000' })
    const [r] = await block([tx])
    assert.equal(r!.code, 11, r!.log)
    assert.equal(await balance(w[1]!.address), 1_000_000_000n, 'the send did not happen')
    assert.equal(await balance(w[0]!.address), 1_000_000_000n - 10_000n, 'the fee was taken')
    assert.equal(await sequence(w[0]!.address), 1n, 'the sequence moved on')
    assert.equal(r!.gasWanted, lo)
  })

  it('the total supply is conserved by sends and fees', async () => {
    const txs = [
      await w[0]!.sign([send(w[0]!.address, w[1]!.address, '123')], 0),
      await w[1]!.sign([send(w[1]!.address, w[2]!.address, '456')], 0),
      await w[2]!.sign([send(w[2]!.address, w[0]!.address, '999999999999')], 0), // fails: insufficient funds
    ]
    const rs = await block(txs)
    assert.deepEqual(
      rs.map((r) => r.code),
      [0, 0, 5],
    )
    const q = await app.query({ path: '/cosmos.bank.v1beta1.Query/TotalSupply', data: new Uint8Array(), height: 0n, prove: false })
    assert.deepEqual(QueryTotalSupplyResponse.decode(q.value!).supply, [{ denom: 'uberyl', amount: '3000000000' }])
    const sum = (await Promise.all([...w.map((x) => x.address), moduleAddress('fee_collector')].map(balance))).reduce((a, b) => a + b, 0n)
    assert.equal(sum, 3_000_000_000n)
  })

  it('PrepareProposal leaves out a tx that an earlier tx in the block made invalid', async () => {
    // w0 spends almost everything, so its second tx cannot pay its fee any more.
    const t1 = await w[0]!.sign([send(w[0]!.address, w[1]!.address, String(1_000_000_000 - 10_000 - 5))], 0)
    const t2 = await w[0]!.sign([send(w[0]!.address, w[1]!.address, '1')], 1)
    const res = await app.prepareProposal({
      maxTxBytes: 1_000_000n,
      txs: [t1, t2],
      localLastCommit: { round: 0, votes: [] },
      misbehavior: [],
      height: height + 1n,
      time: blockRequest(height + 1n, []).time,
      nextValidatorsHash: new Uint8Array(32),
      proposerAddress: new Uint8Array(20).fill(7),
    })
    assert.equal(res.txs!.length, 1)
    assert.deepEqual(res.txs![0], t1)
  })

  it('ProcessProposal rejects a block holding a tx with a bad signature, and accepts a good one', async () => {
    const good = await w[0]!.sign([send(w[0]!.address, w[1]!.address, '1')], 0)
    const bad = TxRaw.decode(good)
    bad.signatures[0]![3] ^= 1
    assert.equal((await app.processProposal(blockRequest(height + 1n, [TxRaw.encode(bad).finish()]))).status, 2)
    assert.equal((await app.processProposal(blockRequest(height + 1n, [good]))).status, 1)
  })

  it('queries read committed state only', async () => {
    const tx = await w[0]!.sign([send(w[0]!.address, w[1]!.address, '500')], 0)
    await app.finalizeBlock(blockRequest(++height, [tx]))
    assert.equal(await balance(w[1]!.address), 1_000_000_000n, 'not visible before Commit')
    await app.commit()
    assert.equal(await balance(w[1]!.address), 1_000_000_500n)
  })
})
