import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { ExtendedCommitInfo } from 'cosmjs-types/tendermint/abci/types'
import type { BerylApp } from '../../../chain/app.ts'
import { encodeInjected, extensionSignBytes, INJECTED_PREFIX } from '../../../chain/voteext.ts'
import { consensusAddress } from '../../../modules/validator/index.ts'
import { ecvrfProofToHash, ecvrfProve, genesisSeed, nextSeed, vrfInput } from '../../../modules/vss/index.ts'
import { QuerySeedRequest, QuerySeedResponse } from '../../../proto/gen/beryl/vss/v1/query.ts'
import { VoteExtension } from '../../../proto/gen/beryl/vss/v1/types.ts'
import { CHAIN_ID, blockRequest, genesisState, openApp } from '../../helpers/chain.ts'
import { BERYL, T0, consKey, consSign, genTx, sharedWallets, vrfSecret } from '../validator/chain.ts'

// The chain seed from validators' VRFs in vote extensions (docs/decisions/0022), on the app itself:
// the proposer's injection of the previous height's extensions, ProcessProposal's checks, the seed chain.

const NAMES = ['v0', 'v1', 'v2', 'v3']
const POWER = 10n
const ACCEPT = 1
const REJECT = 2
const addr = (name: string) => consensusAddress(consKey(name))
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

interface Node {
  app: BerylApp
  close(): Promise<void>
}

async function startNode(enableHeight = 1n): Promise<Node> {
  const w = await sharedWallets(4)
  const { app, close } = await openApp()
  const genTxs = await Promise.all(w.map((x, i) => genTx(i, x.address, 2000n * BERYL, NAMES[i])))
  await app.initChain({
    time: { seconds: T0, nanos: 0 },
    chainId: CHAIN_ID,
    consensusParams: { block: { maxBytes: 22020096n, maxGas: 100_000_000n }, abci: { voteExtensionsEnableHeight: enableHeight } } as never,
    validators: [],
    appStateBytes: genesisState(
      w.map((x) => x.address),
      '100000000000',
      { validator: { gen_txs: genTxs } },
    ),
    initialHeight: 1n,
  })
  return { app, close }
}

/** The chain seed of `height` (the query's height 0 means the latest; the genesis seed is the chain id's). */
async function seedAt(app: BerylApp, height: bigint): Promise<Uint8Array> {
  if (height === 0n) return genesisSeed(CHAIN_ID)
  const r = await app.query({ path: '/beryl.vss.v1.Query/Seed', data: QuerySeedRequest.encode({ height }).finish(), height: 0n, prove: false })
  assert.equal(r.code, 0, r.log)
  return QuerySeedResponse.decode(r.value!).seed!.seed
}

/** Validator `name`'s vote extension for `height`, as its ExtendVote makes it. */
const extensionOf = (name: string, height: bigint, previousSeed: Uint8Array) =>
  VoteExtension.encode({ vrfProof: ecvrfProve(vrfSecret(name), vrfInput(CHAIN_ID, height, previousSeed)) }).finish()
const outputOf = (ext: Uint8Array) => ecvrfProofToHash(VoteExtension.decode(ext).vrfProof)!

/** The last commit CometBFT reports: every validator with POWER, `signed` ones COMMIT, the others absent. */
const lastCommit = (signed: string[]) => ({
  round: 0,
  votes: NAMES.map((n) => ({ validator: { address: addr(n), power: POWER }, blockIdFlag: signed.includes(n) ? 2 : 1 })),
})

/** An extended commit of votes for `height` with the extensions of `exts` (signed as CometBFT signs them); the others absent. */
function extended(exts: Record<string, Uint8Array>, round = 0, height = 1n): ExtendedCommitInfo {
  return {
    round,
    votes: NAMES.map((n) => ({
      validator: { address: addr(n), power: POWER },
      voteExtension: exts[n] ?? new Uint8Array(),
      extensionSignature: exts[n] ? consSign(n, extensionSignBytes(exts[n], height, round, CHAIN_ID)) : new Uint8Array(),
      blockIdFlag: exts[n] ? 2 : 1,
    })),
  }
}

const proposal = (height: bigint, txs: Uint8Array[], signed = NAMES) => ({
  ...blockRequest(height, txs, { timeSeconds: T0 + height }),
  proposedLastCommit: lastCommit(signed),
  decidedLastCommit: lastCommit(signed),
})

async function process(app: BerylApp, height: bigint, txs: Uint8Array[], signed = NAMES) {
  return (await app.processProposal(proposal(height, txs, signed))).status
}

/** Finalizes (without commit) and returns the seed event and the app hash. */
async function finalize(app: BerylApp, height: bigint, txs: Uint8Array[], signed = NAMES) {
  const res = await app.finalizeBlock(proposal(height, txs, signed))
  const ev = res.events!.find((e) => e.type === 'chain_seed')
  return { seed: ev?.attributes.find((a) => a.key === 'seed')?.value, appHash: hex(res.appHash!), res }
}

/** All four validators' extensions for `height` (the previous seed read from the app). */
async function allExtensions(app: BerylApp, height: bigint): Promise<Record<string, Uint8Array>> {
  const prev = await seedAt(app, height - 1n)
  return Object.fromEntries(NAMES.map((n) => [n, extensionOf(n, height, prev)]))
}

describe('vss: the chain seed from vote extensions (decision 0022)', function () {
  this.timeout(60_000)
  let node: Node

  beforeEach(async () => {
    node = await startNode()
    // Block 1 (the enable height) carries no extensions: the first extended votes are those for block 1.
    assert.equal(await process(node.app, 1n, []), ACCEPT)
    await finalize(node.app, 1n, [])
    await node.app.commit()
  })
  afterEach(() => node.close())

  it('ExtendVote gives a proof with the node key that VerifyVoteExtension accepts; a wrong signer, garbage or an empty extension is rejected', async () => {
    const app = node.app
    const ext = (await allExtensions(app, 2n)).v1!
    assert.equal(app.verifyVoteExtension({ hash: new Uint8Array(32), validatorAddress: addr('v1'), height: 2n, voteExtension: ext }).status, ACCEPT)
    // The same proof claimed by another validator: its registered key does not verify it.
    assert.equal(app.verifyVoteExtension({ hash: new Uint8Array(32), validatorAddress: addr('v2'), height: 2n, voteExtension: ext }).status, REJECT)
    // For another height (another VRF input).
    assert.equal(app.verifyVoteExtension({ hash: new Uint8Array(32), validatorAddress: addr('v1'), height: 3n, voteExtension: ext }).status, REJECT)
    for (const bad of [new Uint8Array(), Uint8Array.of(1, 2, 3), new Uint8Array(4096), VoteExtension.encode({ vrfProof: new Uint8Array(80) }).finish()])
      assert.equal(app.verifyVoteExtension({ hash: new Uint8Array(32), validatorAddress: addr('v1'), height: 2n, voteExtension: bad }).status, REJECT)
    // An unknown validator.
    assert.equal(app.verifyVoteExtension({ hash: new Uint8Array(32), validatorAddress: new Uint8Array(20), height: 2n, voteExtension: ext }).status, REJECT)
  })

  it('ProcessProposal rejects missing, undecodable, forged, badly signed, short, misattributed and duplicated injections and accepts valid ones', async () => {
    const app = node.app
    const exts = await allExtensions(app, 1n)
    const valid = encodeInjected(extended(exts))
    // Missing: no injection, or a normal tx first.
    assert.equal(await process(app, 2n, []), REJECT)
    // Undecodable.
    assert.equal(await process(app, 2n, [Uint8Array.from([...INJECTED_PREFIX, 0xff, 0xff, 0xff])]), REJECT)
    // A forged proof (one byte of v2's flipped).
    const forged = Uint8Array.from(exts.v2!)
    forged[forged.length - 5]! ^= 1
    assert.equal(await process(app, 2n, [encodeInjected(extended({ ...exts, v2: forged }))]), REJECT)
    // A proof that verifies, for another validator's key.
    assert.equal(await process(app, 2n, [encodeInjected(extended({ ...exts, v3: exts.v2! }))]), REJECT)
    // Short: 2 of 4 (20 of 40 power) is not more than 2/3.
    assert.equal(await process(app, 2n, [encodeInjected(extended({ v0: exts.v0!, v1: exts.v1! }))]), REJECT)
    // A validator CometBFT saw as absent from the last commit.
    assert.equal(await process(app, 2n, [valid], ['v0', 'v1', 'v2']), REJECT)
    // A vote listed twice, a power that is not the commit's, another round.
    const c = extended(exts)
    assert.equal(await process(app, 2n, [encodeInjected({ ...c, votes: [...c.votes, c.votes[0]!] })]), REJECT)
    assert.equal(await process(app, 2n, [encodeInjected({ ...c, votes: c.votes.map((v) => ({ ...v, validator: { ...v.validator, power: 99n } })) })]), REJECT)
    assert.equal(await process(app, 2n, [encodeInjected(extended(exts, 1))]), REJECT)
    // Valid proofs with a signature that is not the validator's (zeroed, or over another height).
    assert.equal(await process(app, 2n, [encodeInjected({ ...c, votes: c.votes.map((v) => ({ ...v, extensionSignature: new Uint8Array(64) })) })]), REJECT)
    assert.equal(await process(app, 2n, [encodeInjected(extended(exts, 0, 2n))]), REJECT)
    // Injected anywhere but first.
    assert.equal(await process(app, 2n, [valid, valid]), REJECT)
    // The mempool never takes one.
    assert.equal((await app.checkTx({ tx: valid, type: 0 })).code, 2)
    // Valid: all four, or 3 of 4 (30 of 40 power).
    assert.equal(await process(app, 2n, [valid]), ACCEPT)
    const { v3: _, ...three } = exts
    assert.equal(await process(app, 2n, [encodeInjected(extended(three))], ['v0', 'v1', 'v2']), ACCEPT)
    // The injected tx gets its own (empty, successful) result.
    const { res } = await finalize(app, 2n, [valid])
    assert.equal(res.txResults!.length, 1)
    assert.equal(res.txResults![0]!.code, 0)
  })

  it('PrepareProposal injects the local last commit as the first tx (a commit vote without an extension as absent), and the proposal passes ProcessProposal', async () => {
    const app = node.app
    const exts = await allExtensions(app, 1n)
    const local = extended(exts)
    // The proposer's own vote (v3) with no extension: what a node without a VRF key would have.
    local.votes[3] = { ...local.votes[3]!, voteExtension: new Uint8Array(), extensionSignature: new Uint8Array() }
    const prep = await app.prepareProposal({
      maxTxBytes: 1_000_000n,
      txs: [encodeInjected(extended(exts))], // a mempool tx with the reserved prefix is never taken
      localLastCommit: local,
      misbehavior: [],
      height: 2n,
      time: { seconds: T0 + 2n, nanos: 0 },
      nextValidatorsHash: new Uint8Array(32),
      proposerAddress: addr('v3'),
    })
    assert.equal(prep.txs!.length, 1)
    const injected = ExtendedCommitInfo.decode(prep.txs![0]!.subarray(INJECTED_PREFIX.length))
    assert.deepEqual(
      injected.votes.map((v) => v.blockIdFlag),
      [2, 2, 2, 1],
    )
    assert.equal(await process(app, 2n, prep.txs!), ACCEPT)
  })

  it('rejects an injection before the enable height', async () => {
    const late = await startNode(5n)
    try {
      const exts = { v0: new Uint8Array(82) }
      assert.equal(await process(late.app, 1n, [encodeInjected(extended(exts, 0, 0n))]), REJECT)
      assert.equal(await process(late.app, 1n, []), ACCEPT)
    } finally {
      await late.close()
    }
  })

  it('the seed at each height is sha256(previous seed ‖ sorted VRF outputs of the injected extensions), recomputed independently', async () => {
    const app = node.app
    let prev = await seedAt(app, 1n)
    // Block 1 (no extensions): the fallback from the genesis seed and the height.
    assert.deepEqual(prev, sha256(await seedAt(app, 0n), Buffer.from('0000000000000001', 'hex')))
    for (let h = 2n; h <= 5n; h++) {
      const exts = await allExtensions(app, h - 1n)
      const outputs = Object.values(exts)
        .map(outputOf)
        .sort((a, b) => Buffer.compare(a, b))
      const expected = sha256(prev, ...outputs)
      assert.equal(await process(app, h, [encodeInjected(extended(exts, 0, h - 1n))]), ACCEPT)
      const { seed } = await finalize(app, h, [encodeInjected(extended(exts, 0, h - 1n))])
      await app.commit()
      assert.equal(seed, hex(expected))
      assert.deepEqual(await seedAt(app, h), expected)
      prev = expected
    }
  })

  it('a proposer choosing which extensions to include can pick only among the seeds of the >2/3-power subsets it received', async () => {
    const app = node.app
    const prev = await seedAt(app, 1n)
    const exts = await allExtensions(app, 1n)
    // Every subset of the four extensions: those with more than 2/3 of the power (3 or 4 of them) are accepted.
    const allowed = new Set<string>()
    const accepted = new Set<string>()
    for (let mask = 0; mask < 16; mask++) {
      const chosen = NAMES.filter((_, i) => mask & (1 << i))
      const sub = Object.fromEntries(chosen.map((n) => [n, exts[n]!]))
      const seed = hex(nextSeed(prev, 2n, Object.values(sub).map(outputOf)))
      if (3 * chosen.length > 2 * NAMES.length) allowed.add(seed)
      const status = await process(app, 2n, [encodeInjected(extended(sub))], chosen)
      assert.equal(status, 3 * chosen.length > 2 * NAMES.length ? ACCEPT : REJECT, `subset ${chosen.join(',')}`)
      if (status === ACCEPT) accepted.add((await finalize(app, 2n, [encodeInjected(extended(sub))], chosen)).seed!)
    }
    assert.equal(allowed.size, 5) // C(4,3) + C(4,4)
    assert.deepEqual([...accepted].sort(), [...allowed].sort())
    // Anything else it could try (a random proof, another height's proofs) is rejected: it cannot pick an arbitrary seed.
    const stale = await allExtensions(app, 2n) // proofs for the wrong height
    assert.equal(await process(app, 2n, [encodeInjected(extended(stale))]), REJECT)
    const random = VoteExtension.encode({ vrfProof: sha256(Buffer.from('x')).subarray(0, 32) }).finish()
    assert.equal(await process(app, 2n, [encodeInjected(extended({ ...exts, v0: random }))]), REJECT)
  })

  it("changing any one included output changes the seed: the proposer of h cannot predict seed h+1 without the others' VRF outputs", async () => {
    const app = node.app
    const prev = await seedAt(app, 1n)
    const outputs = Object.values(await allExtensions(app, 1n)).map(outputOf)
    const base = hex(nextSeed(prev, 2n, outputs))
    for (let i = 0; i < outputs.length; i++) {
      // Validator i's output replaced by what another key would give for the same input.
      const other = outputOf(extensionOf(`stranger-${i}`, 1n, await seedAt(app, 0n)))
      const changed = outputs.map((o, j) => (j === i ? other : o))
      assert.notEqual(hex(nextSeed(prev, 2n, changed)), base, `output ${i}`)
    }
    // The order extensions arrive in does not matter (sorted).
    assert.equal(hex(nextSeed(prev, 2n, [...outputs].reverse())), base)
  })

  it('two stores running the same blocks with injected extensions reach the same app hashes', async () => {
    const other = await startNode()
    try {
      await finalize(other.app, 1n, [])
      await other.app.commit()
      for (let h = 2n; h <= 4n; h++) {
        const exts = await allExtensions(node.app, h - 1n)
        assert.deepEqual(exts, await allExtensions(other.app, h - 1n))
        const inj = [encodeInjected(extended(exts, 0, h - 1n))]
        assert.equal(await process(node.app, h, inj), ACCEPT)
        const a = await finalize(node.app, h, inj)
        const b = await finalize(other.app, h, inj)
        await node.app.commit()
        await other.app.commit()
        assert.equal(a.appHash, b.appHash)
        assert.equal(a.seed, b.seed)
      }
      // Another subset gives another state.
      const exts = await allExtensions(node.app, 4n)
      const { v0: _, ...three } = exts
      const a = await finalize(node.app, 5n, [encodeInjected(extended(exts, 0, 4n))])
      const b = await finalize(other.app, 5n, [encodeInjected(extended(three, 0, 4n))], ['v1', 'v2', 'v3'])
      assert.notEqual(a.appHash, b.appHash)
    } finally {
      await other.close()
    }
  })
})
