import assert from 'node:assert/strict'
import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { ExtendedCommitInfo } from 'cosmjs-types/tendermint/abci/types'
import { homePaths } from '../../chain/node/config.ts'
import { INJECTED_PREFIX, isInjected } from '../../chain/voteext.ts'
import { consensusPubkey } from '../../cli/gentx.ts'
import { readVrfKey } from '../../cli/vrfkey.ts'
import { consensusAddress } from '../../modules/validator/index.ts'
import { ecvrfVerify, genesisSeed, vrfInput } from '../../modules/vss/index.ts'
import { QuerySeedRequest, QuerySeedResponse } from '../../proto/gen/beryl/vss/v1/query.ts'
import { VoteExtension } from '../../proto/gen/beryl/vss/v1/types.ts'
import { waitFor } from '../helpers/node.ts'
import { heightOf, rpcGet, startTestNetwork, type TestNetwork } from '../helpers/network.ts'

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}
const u64be = (n: bigint) => {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(n)
  return b
}
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** CometBFT's vote-extension sign bytes: uvarint-delimited CanonicalVoteExtension{extension=1, height=2 sfixed64, round=3 sfixed64, chain_id=4}. */
function extensionSignBytes(extension: Uint8Array, height: bigint, round: bigint, chainId: string): Uint8Array {
  const parts: Buffer[] = []
  const varint = (n: number) => {
    const out: number[] = []
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80)
      n >>>= 7
    }
    out.push(n)
    return Buffer.from(out)
  }
  const fixed = (tag: number, v: bigint) => {
    if (v === 0n) return
    const b = Buffer.alloc(8)
    b.writeBigInt64LE(v)
    parts.push(Buffer.of(tag), b)
  }
  if (extension.length) parts.push(Buffer.of(0x0a), varint(extension.length), Buffer.from(extension))
  fixed(0x11, height)
  fixed(0x19, round)
  if (chainId) parts.push(Buffer.of(0x22), varint(Buffer.byteLength(chainId)), Buffer.from(chainId))
  const body = Buffer.concat(parts)
  return Buffer.concat([varint(body.length), body])
}
const ed25519Verify = (pub: Uint8Array, msg: Uint8Array, sig: Uint8Array) =>
  cryptoVerify(null, msg, createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]), format: 'der', type: 'spki' }), sig)

/**
 * The chain seed on a real 4-validator CometBFT network (docs/decisions/0022): every block after the
 * enable height (1) carries >2/3 of the power in valid VRF extensions, and the seed each node reports is
 * recomputed here from the blocks alone; a proposer that forges or shortens the injection gets its
 * blocks rejected while the chain goes on; with one validator of four down, blocks and seeds go on.
 */
describe('vote extensions: the chain seed from validators’ VRFs (4 validators, real CometBFT)', function () {
  this.timeout(600_000)
  let net: TestNetwork
  const rpc = () => net.validators[0]!.rpc
  /** consensus address (hex, upper) → the validator's keys, from the homes. */
  const keys = new Map<string, { vrf: Uint8Array; ed25519: Uint8Array; index: number }>()
  const seeds = new Map<bigint, Uint8Array>()
  const addrOf = (i: number) => hex(consensusAddress(consensusPubkey(net.validators[i]!.home))).toUpperCase()

  before(async () => {
    net = await startTestNetwork({
      validators: 4,
      // The byzantine and the stopped validator restart slowly on a loaded machine: no downtime jailing here.
      genesis: (s) => {
        s.validator.params = { ...s.validator.params, signed_blocks_window: '10000', max_missed_ppm: '1000000' }
      },
    })
    net.validators.forEach((v, index) => {
      keys.set(hex(consensusAddress(consensusPubkey(v.home))).toUpperCase(), { vrf: readVrfKey(v.home)!.publicKey, ed25519: consensusPubkey(v.home), index })
    })
    const g = JSON.parse(fs.readFileSync(homePaths(net.validators[0]!.home).genesis, 'utf8'))
    assert.equal(g.consensus_params.abci.vote_extensions_enable_height, '1')
    seeds.set(0n, genesisSeed(net.chainId))
  })
  after(async () => net?.cleanup())

  async function seedQuery(height: bigint): Promise<{ seed: string; contributors: number }> {
    const data = hex(QuerySeedRequest.encode({ height }).finish())
    const r = await rpcGet(rpc(), `abci_query?path=%22/beryl.vss.v1.Query/Seed%22&data=0x${data}`)
    assert.equal(r.response.code, 0, r.response.log)
    const s = QuerySeedResponse.decode(Buffer.from(r.response.value, 'base64')).seed!
    return { seed: hex(s.seed), contributors: s.contributors }
  }

  /** Recomputes the seed of `h` from block h's first tx (and seed h-1), checking every proof and signature; returns the block. */
  async function check(h: bigint): Promise<{ proposer: string; extended: string[]; round: number }> {
    if (!seeds.has(h - 1n)) await check(h - 1n)
    const block = (await rpcGet(rpc(), `block?height=${h}`)).block
    const txs: Uint8Array[] = (block.data.txs ?? []).map((t: string) => Buffer.from(t, 'base64'))
    let seed: Uint8Array
    const extended: string[] = []
    let round = 0
    if (h <= 1n) {
      assert.ok(!txs[0] || !isInjected(txs[0]), `block ${h} is at or before the enable height: no injection`)
      seed = sha256(seeds.get(h - 1n)!, u64be(h))
    } else {
      assert.ok(txs[0] && isInjected(txs[0]), `block ${h} carries the extensions of height ${h - 1n} as its first tx`)
      const commit = ExtendedCommitInfo.decode(txs[0].subarray(INJECTED_PREFIX.length))
      round = commit.round
      const vals = (await rpcGet(rpc(), `validators?height=${h - 1n}&per_page=100`)).validators as Array<{ address: string; voting_power: string }>
      const power = new Map(vals.map((v) => [v.address, BigInt(v.voting_power)]))
      const total = [...power.values()].reduce((a, b) => a + b, 0n)
      const alpha = vrfInput(net.chainId, h - 1n, seeds.get(h - 2n)!)
      let signed = 0n
      const outputs: Uint8Array[] = []
      for (const v of commit.votes) {
        if (v.blockIdFlag !== 2 || v.voteExtension.length === 0) continue
        const a = hex(v.validator.address).toUpperCase()
        const k = keys.get(a)
        assert.ok(k && power.has(a), `extension from ${a}, a validator of height ${h - 1n}`)
        const beta = ecvrfVerify(k.vrf, VoteExtension.decode(v.voteExtension).vrfProof, alpha)
        assert.ok(beta, `the VRF proof of validator ${k.index} at height ${h - 1n} verifies with its registered key`)
        assert.ok(
          ed25519Verify(k.ed25519, extensionSignBytes(v.voteExtension, h - 1n, BigInt(commit.round), net.chainId), v.extensionSignature),
          `validator ${k.index}'s extension signature at height ${h - 1n} verifies with its consensus key`,
        )
        signed += power.get(a)!
        outputs.push(beta)
        extended.push(a)
      }
      assert.ok(3n * signed > 2n * total, `block ${h}: ${signed} of ${total} power extended`)
      seed = sha256(seeds.get(h - 1n)!, ...outputs.sort((a, b) => Buffer.compare(a, b)))
    }
    const reported = await seedQuery(h)
    assert.equal(reported.seed, hex(seed), `the chain's seed at ${h} is the recomputed one`)
    assert.equal(reported.contributors, h <= 1n ? 0 : extended.length)
    seeds.set(h, seed)
    return { proposer: block.header.proposer_address, extended, round }
  }

  const waitHeight = (target: bigint) => waitFor(`height ${target}`, async () => ((await heightOf(rpc())) >= target ? true : undefined), 180_000)

  it('every block after the enable height carries >2/3 of the power in valid extensions, and each seed equals its recomputation from the blocks', async () => {
    await waitHeight(9n)
    let all4 = 0
    for (let h = 1n; h <= 8n; h++) {
      const b = await check(h)
      if (b.extended.length === 4) all4++
    }
    assert.ok(all4 > 0, 'some blocks carry all four extensions')
    // Different heights, different seeds.
    assert.equal(new Set([...seeds.values()].map(hex)).size, seeds.size)
  })

  for (const mode of ['forge', 'short'] as const) {
    it(`a proposer injecting ${mode === 'forge' ? 'forged' : 'too few'} extensions has its blocks rejected; the round moves on and the chain keeps its height advancing`, async () => {
      const byz = net.procs[3]!
      await byz.stop()
      const logStart = Object.fromEntries([0, 1, 2].map((i) => [i, fs.statSync(path.join(homePaths(net.validators[i]!.home).logs, 'beryld.log')).size]))
      byz.start({ BERYL_TEST_BYZANTINE_PROPOSER: mode })
      // Until the byzantine node has proposed (and been rejected) at least twice.
      const rejectedHeights = () => {
        const out = new Set<string>()
        for (const i of [0, 1, 2]) {
          const f = path.join(homePaths(net.validators[i]!.home).logs, 'beryld.log')
          const text = fs.readFileSync(f).subarray(logStart[i]!).toString('utf8')
          for (const m of text.matchAll(/rejecting proposal at height (\d+): (.*)/g)) if (/inject|extension/.test(m[2]!)) out.add(m[1]!)
        }
        return out
      }
      await waitFor('two rejected proposals from the byzantine validator', async () => (rejectedHeights().size >= 2 ? true : undefined), 240_000)
      // Every height with a rejected proposal is decided (in a later round, by another proposer).
      await waitHeight(BigInt(Math.max(...[...rejectedHeights()].map(Number))) + 1n)
      const to = await heightOf(rpc())
      // From its first rejected proposal on (before it, the node was restarting and catching up), no block it proposes is committed.
      const from = BigInt(Math.min(...[...rejectedHeights()].map(Number)))
      assert.ok(to > from, 'the chain kept committing blocks')
      const byzAddr = addrOf(3)
      let laterRound = 0
      for (let h = from; h <= to; h++) {
        const b = await check(h)
        assert.notEqual(b.proposer, byzAddr, `block ${h} was proposed by the byzantine validator and committed`)
      }
      for (const h of rejectedHeights()) {
        // The height whose round 0 was the byzantine proposal was committed in a later round by another proposer.
        const commitRound = (await rpcGet(rpc(), `commit?height=${h}`)).signed_header.commit.round
        if (Number(commitRound) > 0) laterRound++
      }
      assert.ok(laterRound > 0, 'a rejected height was decided in a later round')
      assert.match(
        fs.readFileSync(path.join(homePaths(net.validators[3]!.home).logs, 'beryld.log'), 'utf8'),
        new RegExp(`BERYL_TEST_BYZANTINE_PROPOSER=${mode}`),
      )
      await byz.stop()
      byz.start()
      await waitFor(
        'the validator back in consensus',
        async () => {
          const h = await heightOf(rpc())
          const b = await check(h)
          return b.extended.includes(byzAddr) ? true : undefined
        },
        180_000,
      )
    })
  }

  it('with one validator of four down (75% of the power), blocks and seeds go on from three extensions', async () => {
    const down = net.procs[2]!
    await down.kill()
    // The votes it cast before it died (for the height in progress, which the node we ask may not have committed yet)
    // still ride in the next blocks: from the first block without its extension on, none carries it.
    const killedAt = await heightOf(rpc())
    await waitHeight(killedAt + 12n)
    const downAddr = addrOf(2)
    let first: bigint | undefined
    for (let h = killedAt + 1n; h <= killedAt + 12n; h++) {
      const b = await check(h)
      if (first === undefined && !b.extended.includes(downAddr)) first = h
      if (first === undefined) continue
      assert.ok(!b.extended.includes(downAddr), `block ${h}, after ${first}, carries the down validator's extension`)
      assert.equal(b.extended.length, 3, `block ${h} carries the three live validators' extensions`)
    }
    assert.ok(first !== undefined && first <= killedAt + 6n, `the down validator's extension is gone by block ${killedAt + 6n} (first without it: ${first})`)
    down.start()
  })
})
