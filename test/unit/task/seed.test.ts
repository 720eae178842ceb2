import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import type { ExtendedCommitInfo } from 'cosmjs-types/tendermint/abci/types'
import { encodeInjected, extensionSignBytes } from '../../../chain/voteext.ts'
import { consensusAddress } from '../../../modules/validator/index.ts'
import { ecvrfProve, ecvrfPublicKey, genesisSeed, vrfInput } from '../../../modules/vss/index.ts'
import { QueryTaskRequest, QueryTaskResponse } from '../../../proto/gen/beryl/task/v1/query.ts'
import { TaskStatus, TaskType, type Task } from '../../../proto/gen/beryl/task/v1/types.ts'
import { QuerySeedRequest, QuerySeedResponse } from '../../../proto/gen/beryl/vss/v1/query.ts'
import { VoteExtension } from '../../../proto/gen/beryl/vss/v1/types.ts'
import { CHAIN_ID, blockRequest, genesisState, openApp, type Wallet } from '../../helpers/chain.ts'
import { BERYL, consKey, consSign, genTx, sharedWallets, vrfSecret } from '../validator/chain.ts'

// Task seeds from the chain seed (docs/decisions/0022): with vote extensions on, a task queued in block h is
// seeded and dispatched in block h+1 from seed_{h+1}, unknown when the task was committed; different seeds
// dispatch the same queue differently.

const MODEL = 'cd'.repeat(32)
const T0 = 1_700_000_000n
const VALIDATORS = ['v0', 'v1', 'v2', 'v3']
const sha = (...p: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const x of p) h.update(x)
  return new Uint8Array(h.digest())
}
const CREATOR_VRF = ecvrfPublicKey(sha(Buffer.from('creator')))

/** An app with 4 genesis validators (VRF keys registered), 8 funded wallets, six GPU nodes; blocks with or without injected extensions. */
async function taskChain(o: { enableHeight: bigint; genesisSeed?: Uint8Array }) {
  const w = await sharedWallets(8)
  const { app, close } = await openApp()
  const genTxs = await Promise.all(VALIDATORS.map((name, i) => genTx(i, w[i]!.address, 2000n * BERYL, name)))
  await app.initChain({
    time: { seconds: T0, nanos: 0 },
    chainId: CHAIN_ID,
    consensusParams: { block: { maxBytes: 22020096n, maxGas: 100_000_000n }, abci: { voteExtensionsEnableHeight: o.enableHeight } } as never,
    validators: [],
    appStateBytes: genesisState(
      w.map((x) => x.address),
      '100000000000',
      {
        validator: { gen_txs: genTxs },
        task: { params: { min_eligible_nodes: '3' } },
        ...(o.genesisSeed ? { vss: { seed: { height: '0', seed: Buffer.from(o.genesisSeed).toString('base64'), contributors: 0 } } } : {}),
      },
    ),
    initialHeight: 1n,
  })
  const seq = new Map<string, number>()
  let height = 0n
  const query = async (path: string, data: Uint8Array) => {
    const r = await app.query({ path, data, height: 0n, prove: false })
    assert.equal(r.code, 0, r.log)
    return r.value!
  }
  const seedAt = async (h: bigint) =>
    h === 0n
      ? (o.genesisSeed ?? genesisSeed(CHAIN_ID))
      : QuerySeedResponse.decode(await query('/beryl.vss.v1.Query/Seed', QuerySeedRequest.encode({ height: h }).finish())).seed!.seed
  const lastCommit = { round: 0, votes: VALIDATORS.map((n) => ({ validator: { address: consensusAddress(consKey(n)), power: 10n }, blockIdFlag: 2 })) }

  /** One block: the previous height's four extensions injected first (after the enable height), then `txs`. */
  async function run(txs: Array<[Wallet, unknown]>) {
    height++
    const signed: Uint8Array[] = []
    if (o.enableHeight > 0n && height > o.enableHeight) {
      const prev = await seedAt(height - 2n)
      const commit: ExtendedCommitInfo = {
        round: 0,
        votes: VALIDATORS.map((n) => {
          const ext = VoteExtension.encode({ vrfProof: ecvrfProve(vrfSecret(n), vrfInput(CHAIN_ID, height - 1n, prev)) }).finish()
          return {
            validator: { address: consensusAddress(consKey(n)), power: 10n },
            voteExtension: ext,
            extensionSignature: consSign(n, extensionSignBytes(ext, height - 1n, 0, CHAIN_ID)),
            blockIdFlag: 2,
          }
        }),
      }
      signed.push(encodeInjected(commit))
    }
    for (const [who, m] of txs) {
      const s = seq.get(who.address) ?? 0
      signed.push(await who.sign([m], s, { gas: '3000000', fee: '100000' }))
      seq.set(who.address, s + 1)
    }
    const req = { ...blockRequest(height, signed, { timeSeconds: T0 + height }), proposedLastCommit: lastCommit, decidedLastCommit: lastCommit }
    assert.equal((await app.processProposal(req)).status, 1, `block ${height} accepted`)
    const res = await app.finalizeBlock(req)
    await app.commit()
    for (const r of res.txResults!) assert.equal(r.code, 0, r.log)
    return res
  }
  const task = async (c: Uint8Array): Promise<Task> =>
    QueryTaskResponse.decode(await query('/beryl.task.v1.Query/Task', QueryTaskRequest.encode({ taskIdCommitment: c }).finish())).task!
  const nodes = w.slice(0, 6)
  const creator = w[6]!
  await run([])
  await run(
    nodes.map((n) => [
      n,
      {
        typeUrl: '/beryl.staking.v1.MsgJoin',
        value: { address: n.address, gpuName: 'NVIDIA GeForce RTX 4090', gpuVramGb: 24, runnerVersion: '1.0.0', modelIds: [MODEL], stake: '400000000' },
      },
    ]),
  )
  const create = (tag: string): { commitment: Uint8Array; msg: [Wallet, unknown] } => {
    const nonce = sha(Buffer.from(tag))
    const commitment = sha(sha(Buffer.from(`task-${tag}`)), nonce)
    return {
      commitment,
      msg: [
        creator,
        {
          typeUrl: '/beryl.task.v1.MsgCreateTask',
          value: {
            creator: creator.address,
            taskIdCommitment: commitment,
            nonce,
            taskType: TaskType.TASK_TYPE_IMAGE,
            args: JSON.stringify({ prompt: `a lighthouse ${tag}` }),
            modelIds: [MODEL],
            minVramGb: 8,
            requiredGpu: '',
            requiredGpuVramGb: 0,
            taskVersion: '1.0.0',
            fee: '2000000',
            vrfPublicKey: CREATOR_VRF,
          },
        },
      ],
    }
  }
  return { app, close, run, task, create, seedAt, height: () => height }
}

describe('task: seeds after commitment (decision 0022)', function () {
  this.timeout(120_000)

  it('with vote extensions on, a task created in block h is seeded and dispatched in block h+1, from seed h+1', async () => {
    const c = await taskChain({ enableHeight: 1n })
    try {
      const t = c.create('one')
      await c.run([t.msg])
      const h = c.height()
      const created = await c.task(t.commitment)
      assert.equal(created.status, TaskStatus.TASK_STATUS_QUEUED, 'not dispatched in its creation block')
      assert.equal(created.samplingSeed.length, 0, 'no sampling seed in its creation block')
      await c.run([])
      const next = await c.task(t.commitment)
      assert.equal(next.status, TaskStatus.TASK_STATUS_STARTED)
      assert.deepEqual(next.samplingSeed, sha(await c.seedAt(h + 1n), t.commitment))
    } finally {
      await c.close()
    }
  })

  it('without vote extensions (a predictable seed), a task is still seeded and dispatched in its creation block', async () => {
    const c = await taskChain({ enableHeight: 0n })
    try {
      const t = c.create('one')
      await c.run([t.msg])
      const created = await c.task(t.commitment)
      assert.equal(created.status, TaskStatus.TASK_STATUS_STARTED)
      assert.deepEqual(created.samplingSeed, sha(await c.seedAt(c.height()), t.commitment))
    } finally {
      await c.close()
    }
  })

  it('the same queue dispatched with two different seeds goes to different nodes', async () => {
    const tags = ['a', 'b', 'c', 'd', 'e', 'f']
    const assignments: string[][] = []
    for (const seed of [sha(Buffer.from('seed one')), sha(Buffer.from('seed two'))]) {
      const c = await taskChain({ enableHeight: 1n, genesisSeed: seed })
      try {
        const ts = tags.map((tag) => c.create(tag))
        await c.run(ts.map((t) => t.msg))
        await c.run([])
        assignments.push(await Promise.all(ts.map(async (t) => (await c.task(t.commitment)).selectedNode)))
      } finally {
        await c.close()
      }
    }
    assert.ok(
      assignments.every((a) => a.every((n) => n !== '')),
      'every task dispatched',
    )
    assert.notDeepEqual(assignments[0], assignments[1])
  })
})
