import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { QueryClient, setupBankExtension, setupStakingExtension } from '@cosmjs/stargate'
import { Comet38Client } from '@cosmjs/tendermint-rpc'
import { homePaths } from '../../chain/node/config.ts'
import { NodeProcess, createFullNode } from '../../cli/network.ts'
import { consensusPubkey } from '../../cli/gentx.ts'
import { vrfPubkey } from '../../cli/vrfkey.ts'
import { consensusAddress } from '../../modules/validator/index.ts'
import { QueryPoolsResponse, QueryValidatorRequest, QueryValidatorResponse } from '../../proto/gen/beryl/validator/v1/query.ts'
import { waitFor } from '../helpers/node.ts'
import { appHashes, cometValidators, fee, heightOf, rpcGet, startTestNetwork, waitForSetSize, type TestNetwork } from '../helpers/network.ts'

const BOND = 10_000_000_000n // each genesis validator's self-bond: power 10 000
const consAddr = (home: string) =>
  Buffer.from(consensusAddress(consensusPubkey(home)))
    .toString('hex')
    .toUpperCase()

/**
 * One real 4-validator network (gentx ceremony, four `beryld start` processes with their CometBFT)
 * shared by the file's tests, in order: what each test does to the set is what the next one sees.
 */
describe('a real validator network (4 validators from a gentx ceremony)', function () {
  this.timeout(600_000)
  let net: TestNetwork
  let comet: Comet38Client

  const rpc0 = () => net.validators[0]!.rpc
  async function query(pathName: string, data: Uint8Array) {
    const r = await comet.abciQuery({ path: pathName, data })
    if (r.code !== 0) throw new Error(`${pathName}: ${r.log}`)
    return r.value
  }
  const validator = async (address: string) =>
    QueryValidatorResponse.decode(await query('/beryl.validator.v1.Query/Validator', QueryValidatorRequest.encode({ address }).finish()))
  const pools = async () => QueryPoolsResponse.decode(await query('/beryl.validator.v1.Query/Pools', new Uint8Array()))

  before(async () => {
    net = await startTestNetwork({ validators: 4 })
    comet = await Comet38Client.connect(rpc0())
  })
  after(async () => {
    comet?.disconnect()
    await net?.cleanup()
  })

  it('the four gentx validators run consensus with their bonded power, and cosmjs lists them', async () => {
    const set = await cometValidators(rpc0())
    assert.deepEqual([...set.keys()].sort(), net.validators.map((v) => consAddr(v.home)).sort())
    assert.ok([...set.values()].every((p) => p === BOND / 1_000_000n))
    const staking = QueryClient.withExtensions(comet, setupStakingExtension).staking
    const bonded = await staking.validators('BOND_STATUS_BONDED')
    assert.deepEqual(bonded.validators.map((v) => v.description.moniker).sort(), ['validator-0', 'validator-1', 'validator-2', 'validator-3'])
    assert.ok(bonded.validators.every((v) => v.tokens === BOND.toString() && v.operatorAddress.startsWith('berylvaloper1')))
  })

  it('tx fees go to the validators by power, ⌊F·p/P⌋ per block with the remainder carried; a withdrawal conserves supply', async () => {
    const { client, address } = await net.client(net.validators[0]!.home, 'account1')
    const to = net.accounts[1]!.address
    const rewardsBefore = await Promise.all(net.validators.map(async (v) => BigInt((await validator(v.account)).validator!.rewards)))
    const carryBefore = BigInt((await pools()).feeCollector)
    // Fees of different sizes, one tx per block (each waits for inclusion).
    const fees = [10_007, 12_345, 50_001, 10_003, 77_777, 10_000]
    const byHeight = new Map<number, bigint>()
    for (const f of fees) {
      const r = await client.sendTokens(address, to, [{ denom: 'uberyl', amount: '1' }], fee(f))
      assert.equal(r.code, 0, r.rawLog)
      byHeight.set(r.height, (byHeight.get(r.height) ?? 0n) + BigInt(f))
    }
    // Reference: each block's fees plus the carried remainder, split in four equal powers.
    let carry = carryBefore
    let share = 0n
    for (const h of [...byHeight.keys()].sort((a, b) => a - b)) {
      const F = byHeight.get(h)! + carry
      share += F / 4n
      carry = F - (F / 4n) * 4n
    }
    const last = Math.max(...byHeight.keys())
    await waitFor('the last fees distributed', async () => ((await heightOf(rpc0())) >= BigInt(last + 2) ? true : undefined))
    const rewards = await Promise.all(net.validators.map(async (v) => BigInt((await validator(v.account)).validator!.rewards)))
    rewards.forEach((r, i) => assert.equal(r - rewardsBefore[i]!, share, `validator-${i}`))
    assert.equal(BigInt((await pools()).feeCollector), carry)

    const op = await net.client(net.validators[1]!.home, 'validator')
    const totalBefore = BigInt((await op.client.getBalance(op.address, 'uberyl')).amount)
    const bank = QueryClient.withExtensions(comet, setupBankExtension).bank
    const supplyBefore = (await bank.supplyOf('uberyl')).amount
    const r = await op.client.signAndBroadcast(
      op.address,
      [{ typeUrl: '/beryl.validator.v1.MsgWithdrawRewards', value: { account: op.address } }],
      fee(20_000, 300_000),
    )
    assert.equal(r.code, 0, r.rawLog)
    assert.equal(BigInt((await op.client.getBalance(op.address, 'uberyl')).amount), totalBefore + rewards[1]! - 20_000n)
    assert.equal((await validator(op.address)).validator!.rewards, '0')
    assert.equal((await bank.supplyOf('uberyl')).amount, supplyBefore)
  })

  it('a fifth validator joins live (init, genesis, sync, MsgCreateValidator), signs, then unbonds and leaves the set', async () => {
    const node = await createFullNode(net.root, 'validator-4', net)
    const p = new NodeProcess(node.home)
    net.extra.push(p)
    p.start()
    await waitFor(
      'the new node to sync',
      async () => {
        const s = await rpcGet(node.rpc, 'status')
        return !s.sync_info.catching_up && BigInt(s.sync_info.latest_block_height) + 2n >= (await heightOf(rpc0())) ? true : undefined
      },
      120_000,
    )
    const { client, address } = await net.client(net.validators[0]!.home, 'account2')
    const key = consensusPubkey(node.home)
    const create = await client.signAndBroadcast(
      address,
      [
        {
          typeUrl: '/beryl.validator.v1.MsgCreateValidator',
          value: {
            account: address,
            moniker: 'validator-4',
            details: 'joined live',
            consensusPubkey: key,
            vrfPubkey: vrfPubkey(node.home),
            selfBond: String(5_000_000_000n),
            commissionPpm: 100_000,
          },
        },
      ],
      fee(20_000, 400_000),
    )
    assert.equal(create.code, 0, create.rawLog)
    await waitForSetSize(rpc0(), 5)
    assert.equal((await cometValidators(rpc0())).get(consAddr(node.home)), 5000n)
    // It signs: its vote is in a commit a few blocks later.
    const addr = consAddr(node.home)
    await waitFor(
      'a commit signed by the new validator',
      async () => {
        const h = await heightOf(rpc0())
        const c = await rpcGet(rpc0(), `commit?height=${h}`)
        return (c.signed_header.commit.signatures as Array<{ validator_address: string; block_id_flag: number }>).some(
          (s) => s.validator_address === addr && s.block_id_flag === 2,
        )
          ? true
          : undefined
      },
      60_000,
    )
    assert.equal((await validator(address)).active, true)
    // Bonding more raises its power; unbonding everything takes it out.
    const bond = await client.signAndBroadcast(
      address,
      [{ typeUrl: '/beryl.validator.v1.MsgBond', value: { account: address, amount: String(1_000_000_000n) } }],
      fee(20_000, 300_000),
    )
    assert.equal(bond.code, 0, bond.rawLog)
    await waitFor('power 6000', async () => ((await cometValidators(rpc0())).get(addr) === 6000n ? true : undefined))
    const before = BigInt((await client.getBalance(address, 'uberyl')).amount)
    const unbond = await client.signAndBroadcast(
      address,
      [{ typeUrl: '/beryl.validator.v1.MsgUnbond', value: { account: address, amount: String(6_000_000_000n) } }],
      fee(20_000, 300_000),
    )
    assert.equal(unbond.code, 0, unbond.rawLog)
    await waitForSetSize(rpc0(), 4)
    assert.equal((await cometValidators(rpc0())).has(addr), false)
    await waitFor(
      'the unbonded stake returned',
      async () => (BigInt((await client.getBalance(address, 'uberyl')).amount) === before - 20_000n + 6_000_000_000n ? true : undefined),
      60_000,
    )
    await p.stop()
  })

  it('a validator stopped for longer than the liveness window is jailed; unjail after the jail period restores it', async () => {
    const v3 = net.validators[3]!
    await net.procs[3]!.stop()
    await waitFor('validator-3 jailed', async () => ((await validator(v3.account)).validator!.jailed ? true : undefined), 120_000)
    const jailed = (await validator(v3.account)).validator!
    assert.equal(jailed.tombstoned, false)
    assert.equal(BigInt(jailed.slashed), (BOND * 10_000n) / 1_000_000n)
    await waitForSetSize(rpc0(), 3)
    net.procs[3]!.start()
    await waitFor(
      'validator-3 back in sync',
      async () => {
        const s = await rpcGet(v3.rpc, 'status')
        return !s.sync_info.catching_up && BigInt(s.sync_info.latest_block_height) + 2n >= (await heightOf(rpc0())) ? true : undefined
      },
      120_000,
    )
    const op = await net.client(v3.home, 'validator')
    await waitFor('the jail period over', async () => {
      const b = await rpcGet(rpc0(), 'block')
      return BigInt(Math.floor(Date.parse(b.block.header.time) / 1000)) >= jailed.jailedUntil ? true : undefined
    })
    const r = await op.client.signAndBroadcast(op.address, [{ typeUrl: '/beryl.validator.v1.MsgUnjail', value: { account: op.address } }], fee(20_000, 300_000))
    assert.equal(r.code, 0, r.rawLog)
    await waitForSetSize(rpc0(), 4)
    assert.equal((await cometValidators(rpc0())).get(consAddr(v3.home)), (BOND - (BOND * 10_000n) / 1_000_000n) / 1_000_000n)
  })

  it("double signing: a second process with validator-2's key produces evidence; validator-2 is slashed and tombstoned", async () => {
    const v2 = net.validators[2]!
    const node = await createFullNode(net.root, 'double-signer', net)
    fs.copyFileSync(path.join(homePaths(v2.home).config, 'priv_validator_key.json'), path.join(homePaths(node.home).config, 'priv_validator_key.json'))
    const p = new NodeProcess(node.home)
    net.extra.push(p)
    p.start()
    await waitFor('validator-2 tombstoned', async () => ((await validator(v2.account)).validator!.tombstoned ? true : undefined), 240_000)
    await p.stop()
    const v = (await validator(v2.account)).validator!
    assert.equal(v.jailed, true)
    assert.equal(BigInt(v.slashed), (BOND * 50_000n) / 1_000_000n)
    assert.ok(BigInt((await pools()).communityPool) >= (BOND * 50_000n) / 1_000_000n + (BOND * 10_000n) / 1_000_000n)
    await waitForSetSize(rpc0(), 3)
    const staking = QueryClient.withExtensions(comet, setupStakingExtension).staking
    const all = await staking.validators('')
    assert.equal(all.validators.find((x) => x.description.moniker === 'validator-2')?.jailed, true)
  })

  it("every validator's application computed the same app hash at every height", async () => {
    const top = await heightOf(rpc0())
    const running = net.validators.filter((_, i) => net.procs[i]!.running)
    await Promise.all(running.map((v) => waitFor(`${v.moniker} at ${top}`, async () => ((await heightOf(v.rpc)) >= top ? true : undefined))))
    const [first, ...rest] = await Promise.all(running.map((v) => appHashes(v.rpc, top)))
    assert.equal(first!.length, Number(top))
    for (const [i, h] of rest.entries()) assert.deepEqual(h, first, `${running[i + 1]!.moniker} differs from ${running[0]!.moniker}`)
  })
})
