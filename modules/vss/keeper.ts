import { createHash } from 'node:crypto'
import type { Context, QueryContext } from '../../chain/context.ts'
import { event } from '../../chain/events.ts'
import type { ConsensusInfo } from '../../chain/module.ts'
import { u64be } from '../../chain/store/encoding.ts'
import { LastDecoded } from '../../chain/store/memo.ts'
import type { KVStore } from '../../chain/store/types.ts'
import { ChainSeed, Params, VoteExtension, VrfInput } from '../../proto/gen/beryl/vss/v1/types.ts'
import type { StakingKeeper } from '../staking/index.ts'
import { ECVRF_PROOF_LENGTH, ecvrfProofToHash, ecvrfProve, ecvrfVerify } from './ecvrf.ts'
import { MODULE } from './errors.ts'
import { LATEST_SEED_KEY, PARAMS_KEY, SEED_HISTORY, seedKey } from './keys.ts'
import { DEFAULT_PARAMS } from './params.ts'
import { isSelectedForValidation, samplingRate, type SamplingRateResult } from './sampling.ts'

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

/** How many serving nodes hold a model (the task module's count, wired in modules/index.ts). */
export type EligibleCounter = (ctx: Context | QueryContext, modelId: string) => Promise<bigint>

/** A validator's registered ECVRF public key by consensus address (the validator module's, wired in modules/index.ts). */
export type VrfKeyLookup = (ctx: Context | QueryContext, consensusAddress: Uint8Array) => Uint8Array | undefined

/** The largest vote extension looked at (a VoteExtension with an 80-byte proof is 82 bytes). */
export const MAX_VOTE_EXTENSION_BYTES = 128

/** The VRF input (alpha) of the vote extensions at `height`: chain id, height, and the seed of height - 1. */
export function vrfInput(chainId: string, height: bigint, previousSeed: Uint8Array): Uint8Array {
  return VrfInput.encode({ chainId, height, previousSeed }).finish()
}

/**
 * The chain seed of a block from the previous seed and the VRF outputs of the extensions it carries:
 * sha256(seed_{h-1} ‖ outputs sorted bytewise); without extensions (before the enable height, or a block
 * run without consensus) sha256(seed_{h-1} ‖ u64be(h)), which anyone can compute in advance.
 */
export function nextSeed(previous: Uint8Array, height: bigint, outputs: Uint8Array[] | undefined): Uint8Array {
  if (outputs === undefined) return sha256(previous, u64be(height))
  return sha256(previous, ...[...outputs].sort((a, b) => Buffer.compare(a, b)))
}

/** The genesis seed of a chain: sha256("beryl/genesis-seed" ‖ chain id). */
export const genesisSeed = (chainId: string) => sha256(Buffer.from('beryl/genesis-seed', 'utf8'), Buffer.from(chainId, 'utf8'))

/**
 * Verifiable secret sampling: the sampling rate a task gets from its fee and the network, the
 * chain's randomness, and the check of a creator's ECVRF proof of selection.
 */
export class VssKeeper {
  /** Set by modules/index.ts; the SamplingRate query uses it to size the network for a model. */
  countEligible: EligibleCounter = async () => 0n

  /** Set by modules/index.ts: the registered VRF key of a validator. */
  vrfKeyOf: VrfKeyLookup = () => undefined
  /** Set by modules/index.ts: a validator's ed25519 consensus key (ProcessProposal checks extension signatures with it). */
  consensusKeyOf: VrfKeyLookup = () => undefined
  /** This node's own ECVRF secret key (node-local, `<home>/config/vrf_key.json`); without it, ExtendVote adds nothing. */
  localVrfKey?: Uint8Array

  constructor(private readonly staking: StakingKeeper) {}

  private kv(ctx: Context | QueryContext): KVStore {
    return ctx.kv(MODULE)
  }

  private readonly storedParams = new LastDecoded((v) => Params.decode(v))

  params(ctx: Context | QueryContext): Params {
    const v = this.kv(ctx).get(PARAMS_KEY)
    return v ? this.storedParams.of(v) : DEFAULT_PARAMS
  }
  setParams(ctx: Context, p: Params): void {
    this.kv(ctx).set(PARAMS_KEY, Params.encode(p).finish())
  }

  /** The rate for a task of this fee among `eligibleNodes` nodes; throws SamplingError when none is safe. */
  rate(ctx: Context | QueryContext, fee: bigint, eligibleNodes: bigint): SamplingRateResult {
    const p = this.params(ctx)
    return samplingRate({
      fee,
      minStake: BigInt(this.staking.params(ctx).minStake),
      eligibleNodes,
      dishonestShare: BigInt(p.assumedDishonestShare),
      minRate: BigInt(p.minSamplingRate),
      seatsPaid: !p.splitGroupFee,
    })
  }

  // ---- the chain seed (docs/decisions/0022) ----------------------------------------------------

  seedAt(ctx: Context | QueryContext, height: bigint): ChainSeed | undefined {
    const v = this.kv(ctx).get(seedKey(height))
    return v ? ChainSeed.decode(v) : undefined
  }

  /** The latest block's seed (in a block's execution: this block's, once begin-block has run). */
  latestSeed(ctx: Context | QueryContext): ChainSeed | undefined {
    const v = this.kv(ctx).get(LATEST_SEED_KEY)
    return v ? ChainSeed.decode(v) : undefined
  }

  setSeed(ctx: Context, s: ChainSeed): void {
    const bytes = ChainSeed.encode(s).finish()
    this.kv(ctx).set(LATEST_SEED_KEY, bytes)
    this.kv(ctx).set(seedKey(s.height), bytes)
    if (s.height >= SEED_HISTORY) this.kv(ctx).delete(seedKey(s.height - SEED_HISTORY))
  }

  /**
   * Begin-block: this block's seed from the previous one and the VRF outputs of the injected extensions
   * (checked by ProcessProposal); the fallback rule when the block carries none.
   */
  beginBlock(ctx: Context, consensus: ConsensusInfo): void {
    const prev = this.latestSeed(ctx)?.seed ?? genesisSeed(ctx.block.chainId)
    let outputs: Uint8Array[] | undefined
    if (consensus.voteExtensions) {
      outputs = []
      for (const e of consensus.voteExtensions) {
        const beta = this.outputOf(e.extension)
        if (beta) outputs.push(beta)
      }
    }
    const seed = nextSeed(prev, ctx.block.height, outputs)
    this.setSeed(ctx, { height: ctx.block.height, seed, contributors: outputs?.length ?? 0 })
    if (outputs)
      ctx.emit(event('chain_seed', { height: ctx.block.height.toString(), seed: Buffer.from(seed).toString('hex'), contributors: String(outputs.length) }))
  }

  /**
   * Verified proofs (key, input, proof → output), node-local: each extension is verified once at
   * VerifyVoteExtension and again in the next block's ProcessProposal and begin-block, and an ECVRF
   * verification costs milliseconds. A memo of a pure function: it changes no result, only the time.
   */
  private readonly verified = new Map<string, Uint8Array | null>()

  private verifyMemo(key: Uint8Array, proof: Uint8Array, alpha: Uint8Array): Uint8Array | null {
    const k = `${Buffer.from(key).toString('hex')}/${Buffer.from(alpha).toString('hex')}/${Buffer.from(proof).toString('hex')}`
    let beta = this.verified.get(k)
    if (beta === undefined) {
      beta = ecvrfVerify(key, proof, alpha)
      if (this.verified.size >= 4096) this.verified.delete(this.verified.keys().next().value!)
      this.verified.set(k, beta)
      if (beta) this.outputs.set(Buffer.from(proof).toString('hex'), beta)
    }
    return beta
  }
  private readonly outputs = new Map<string, Uint8Array>()

  /** The VRF output (beta) of an extension's proof; undefined when it is not a well-formed one. */
  private outputOf(extension: Uint8Array): Uint8Array | undefined {
    const proof = this.decodeExtension(extension)
    if (typeof proof === 'string') return undefined
    const k = Buffer.from(proof).toString('hex')
    const known = this.outputs.get(k)
    if (known) return known
    const beta = ecvrfProofToHash(proof) ?? undefined
    if (beta) {
      if (this.outputs.size >= 4096) this.outputs.delete(this.outputs.keys().next().value!)
      this.outputs.set(k, beta)
    }
    return beta
  }

  private decodeExtension(extension: Uint8Array): Uint8Array | string {
    if (extension.length === 0) return 'empty vote extension'
    if (extension.length > MAX_VOTE_EXTENSION_BYTES) return `vote extension of ${extension.length} bytes exceeds ${MAX_VOTE_EXTENSION_BYTES}`
    let proof: Uint8Array
    try {
      proof = VoteExtension.decode(extension).vrfProof
    } catch (err) {
      return `undecodable vote extension: ${(err as Error).message}`
    }
    if (proof.length !== ECVRF_PROOF_LENGTH) return `a VRF proof has ${ECVRF_PROOF_LENGTH} bytes, got ${proof.length}`
    return proof
  }

  /** ExtendVote at `height` (committed state at height - 1): the proof with this node's VRF key. */
  extendVote(ctx: QueryContext, height: bigint): Uint8Array {
    if (!this.localVrfKey) return new Uint8Array()
    const prev = this.seedAt(ctx, height - 1n)
    if (!prev) throw new Error(`no chain seed at height ${height - 1n}`)
    const proof = ecvrfProve(this.localVrfKey, vrfInput(ctx.chainId, height, prev.seed))
    return VoteExtension.encode({ vrfProof: proof }).finish()
  }

  /** VerifyVoteExtension: the proof verifies with the validator's registered key over the height's input. */
  verifyVoteExtension(ctx: QueryContext, height: bigint, validator: Uint8Array, extension: Uint8Array): string | undefined {
    const proof = this.decodeExtension(extension)
    if (typeof proof === 'string') return proof
    const key = this.vrfKeyOf(ctx, validator)
    if (!key || key.length === 0) return 'the validator has no registered VRF key'
    const prev = this.seedAt(ctx, height - 1n)
    if (!prev) return `no chain seed at height ${height - 1n} to verify against`
    if (!this.verifyMemo(key, proof, vrfInput(ctx.chainId, height, prev.seed))) return 'the VRF proof does not verify with the registered key'
    return undefined
  }

  /**
   * The chain's randomness for this block: its chain seed. From the vote-extension enable height on, no
   * single proposer chooses it (it picks at most which >2/3-power subset of extensions it includes).
   * Everything random on chain goes through here.
   */
  randomness(ctx: Context): Uint8Array {
    return this.latestSeed(ctx)?.seed ?? sha256(genesisSeed(ctx.block.chainId), u64be(ctx.block.height))
  }

  /** Whether this block's seed comes from validators' VRFs (false: the fallback, which anyone can predict). */
  seedFromVoteExtensions(ctx: Context): boolean {
    return (this.latestSeed(ctx)?.contributors ?? 0) > 0
  }

  /** A task's sampling seed from this block's randomness. */
  samplingSeed(randomness: Uint8Array, taskIdCommitment: Uint8Array): Uint8Array {
    return sha256(randomness, taskIdCommitment)
  }

  /**
   * Whether the creator's ECVRF proof over the task's seed selects it at `rate`; undefined when
   * the proof does not verify with the task's VRF key.
   */
  selected(vrfPublicKey: Uint8Array, proof: Uint8Array, seed: Uint8Array, rate: bigint): boolean | undefined {
    const beta = ecvrfVerify(vrfPublicKey, proof, seed)
    return beta ? isSelectedForValidation(beta, rate) : undefined
  }
}
