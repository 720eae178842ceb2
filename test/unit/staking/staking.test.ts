import assert from 'node:assert/strict'
import { QueryBalanceRequest, QueryBalanceResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query'
import type { BerylApp } from '../../../chain/app.ts'
import { moduleAddress } from '../../../modules/auth/index.ts'
import { QueryNodeRequest, QueryNodeResponse, QueryNodesRequest, QueryNodesResponse } from '../../../proto/gen/beryl/staking/v1/query.ts'
import { NodeStatus, type Node } from '../../../proto/gen/beryl/staking/v1/types.ts'
import { BlockRunner, initChain, openApp, wallets, type Wallet } from '../../helpers/chain.ts'

const MODEL = 'ab'.repeat(32)
const STAKE = 400_000_000n
const T0 = 1_700_000_000n

describe('staking: GPU nodes join, stake, pause, quit and unbond', function () {
  this.timeout(60_000)
  let app: BerylApp, close: () => Promise<void>
  let w: Wallet[]

  const join = (who: Wallet, over: Record<string, unknown> = {}) => ({
    typeUrl: '/beryl.staking.v1.MsgJoin',
    value: {
      address: who.address,
      gpuName: 'NVIDIA GeForce RTX 4090',
      gpuVramGb: 24,
      runnerVersion: '2.5.0',
      modelIds: [MODEL],
      stake: STAKE.toString(),
      ...over,
    },
  })
  const msg = (name: string, who: Wallet, extra: Record<string, unknown> = {}) => ({
    typeUrl: `/beryl.staking.v1.${name}`,
    value: { address: who.address, ...extra },
  })
  let blocks: BlockRunner
  /** Signs `m` from `who` and runs it in the next block at time `t`; returns the tx result. */
  const run = async (who: Wallet, m: unknown, t?: bigint) => (await blocks.run([[who, m]], t ?? T0 + blocks.height + 1n))[0]!
  const emptyBlock = async (t: bigint) => {
    await blocks.run([], t)
  }
  const node = async (who: Wallet): Promise<Node | undefined> => {
    const r = await app.query({
      path: '/beryl.staking.v1.Query/Node',
      data: QueryNodeRequest.encode({ address: who.address }).finish(),
      height: 0n,
      prove: false,
    })
    return r.code === 0 ? QueryNodeResponse.decode(r.value!).node : undefined
  }
  const balance = async (address: string) => {
    const r = await app.query({
      path: '/cosmos.bank.v1beta1.Query/Balance',
      data: QueryBalanceRequest.encode({ address, denom: 'uberyl' }).finish(),
      height: 0n,
      prove: false,
    })
    return BigInt(QueryBalanceResponse.decode(r.value!).balance!.amount)
  }

  beforeEach(async () => {
    w = await wallets()
    ;({ app, close } = await openApp())
    await initChain(
      app,
      w.map((x) => x.address),
    )
    blocks = new BlockRunner(app, T0, { gas: '400000' })
    await emptyBlock(T0)
  })
  afterEach(async () => {
    await close()
  })

  it('join moves the stake to the staking module and makes the node Available', async () => {
    const before = await balance(w[0]!.address)
    const r = await run(w[0]!, join(w[0]!))
    assert.equal(r.code, 0, r.log)
    const n = await node(w[0]!)
    assert.equal(n?.status, NodeStatus.NODE_STATUS_AVAILABLE)
    assert.equal(n?.stake, STAKE.toString())
    assert.equal(await balance(moduleAddress('staking')), STAKE)
    assert.equal(await balance(w[0]!.address), before - STAKE - 10_000n)
    assert.ok(r.events!.some((e) => e.type === 'node_joined'))
  })

  it('one node per account', async () => {
    await run(w[0]!, join(w[0]!))
    const r = await run(w[0]!, join(w[0]!))
    assert.equal(r.codespace, 'staking')
    assert.equal(r.code, 2)
  })

  it('a stake below min_stake is refused (staking code 4) and moves nothing', async () => {
    const r = await run(w[0]!, join(w[0]!, { stake: (STAKE - 1n).toString() }))
    assert.deepEqual([r.codespace, r.code], ['staking', 4])
    assert.equal(await node(w[0]!), undefined)
    assert.equal(await balance(moduleAddress('staking')), 0n)
  })

  it('invalid node descriptions are refused with a message naming the field', async () => {
    for (const [over, re] of [
      [{ modelIds: ['xyz'] }, /invalid model id/],
      [{ modelIds: [] }, /at least one model/],
      [{ runnerVersion: '2.5' }, /runner_version/],
      [{ gpuVramGb: 0 }, /gpu_vram_gb/],
      [{ gpuName: '' }, /gpu_name/],
      [{ stake: '-5' }, /whole number/],
    ] as const) {
      const r = await run(w[1]!, join(w[1]!, over))
      assert.equal(r.codespace, 'staking', JSON.stringify(over))
      assert.match(r.log!, re)
    }
  })

  it('pause and resume; a paused node cannot be paused again', async () => {
    await run(w[0]!, join(w[0]!))
    assert.equal((await run(w[0]!, msg('MsgPause', w[0]!))).code, 0)
    assert.equal((await node(w[0]!))?.status, NodeStatus.NODE_STATUS_PAUSED)
    const again = await run(w[0]!, msg('MsgPause', w[0]!))
    assert.deepEqual([again.codespace, again.code], ['staking', 6])
    assert.equal((await run(w[0]!, msg('MsgResume', w[0]!))).code, 0)
    assert.equal((await node(w[0]!))?.status, NodeStatus.NODE_STATUS_AVAILABLE)
  })

  it('add stake and update models', async () => {
    await run(w[0]!, join(w[0]!))
    assert.equal((await run(w[0]!, msg('MsgAddStake', w[0]!, { amount: '5' }))).code, 0)
    assert.equal((await node(w[0]!))?.stake, (STAKE + 5n).toString())
    const other = 'cd'.repeat(32)
    assert.equal((await run(w[0]!, msg('MsgUpdateModels', w[0]!, { modelIds: [other, MODEL] }))).code, 0)
    assert.deepEqual((await node(w[0]!))?.modelIds, [MODEL, other], 'stored sorted')
  })

  it('quit starts unbonding; the stake returns exactly at the end of unbonding_period (1800 s), not a second before', async () => {
    await run(w[0]!, join(w[0]!))
    const quitAt = T0 + 100n
    assert.equal((await run(w[0]!, msg('MsgQuit', w[0]!), quitAt)).code, 0)
    const n = await node(w[0]!)
    assert.equal(n?.status, NodeStatus.NODE_STATUS_UNBONDING)
    assert.equal(n?.unbondingUntil, quitAt + 1800n)
    const before = await balance(w[0]!.address)
    await emptyBlock(quitAt + 1799n)
    assert.ok(await node(w[0]!), 'still unbonding one second before')
    assert.equal(await balance(w[0]!.address), before)
    await emptyBlock(quitAt + 1800n)
    assert.equal(await node(w[0]!), undefined, 'removed at the boundary')
    assert.equal(await balance(w[0]!.address), before + STAKE)
    assert.equal(await balance(moduleAddress('staking')), 0n)
  })

  it('an unbonding node cannot add stake or quit again', async () => {
    await run(w[0]!, join(w[0]!))
    await run(w[0]!, msg('MsgQuit', w[0]!))
    assert.equal((await run(w[0]!, msg('MsgAddStake', w[0]!, { amount: '5' }))).code, 6)
    assert.equal((await run(w[0]!, msg('MsgQuit', w[0]!))).code, 6)
  })

  it("only the node's own account can send its messages", async () => {
    await run(w[0]!, join(w[0]!))
    // w1 signs a pause of w0's node: the signer list says w0, so w1's signature does not verify.
    const tx = await w[1]!.sign([msg('MsgPause', w[0]!)], 0)
    const r = await app.checkTx({ tx, type: 0 })
    assert.notEqual(r.code, 0)
  })

  it('Nodes pages through nodes and filters by status and GPU', async () => {
    for (const x of w) await run(x, join(x, x === w[2] ? { gpuName: 'NVIDIA L4' } : {}))
    await run(w[1]!, msg('MsgPause', w[1]!))
    const q = async (req: Partial<QueryNodesRequest>) => {
      const r = await app.query({
        path: '/beryl.staking.v1.Query/Nodes',
        data: QueryNodesRequest.encode(QueryNodesRequest.fromPartial(req)).finish(),
        height: 0n,
        prove: false,
      })
      return QueryNodesResponse.decode(r.value!)
    }
    assert.equal((await q({})).nodes.length, 3)
    assert.equal((await q({ status: NodeStatus.NODE_STATUS_PAUSED })).nodes.length, 1)
    assert.deepEqual(
      (await q({ gpuName: 'NVIDIA L4' })).nodes.map((n) => n.address),
      [w[2]!.address],
    )
    const p1 = await q({ limit: 2 })
    assert.equal(p1.nodes.length, 2)
    const p2 = await q({ limit: 2, key: p1.nextKey })
    assert.equal(p2.nodes.length, 1)
    assert.equal(new Set([...p1.nodes, ...p2.nodes].map((n) => n.address)).size, 3)
  })
})
