import { createPublicKey, verify as cryptoVerify } from 'node:crypto'
import { ExtendedCommitInfo } from 'cosmjs-types/tendermint/abci/types'
import type { InjectedExtension } from './module.ts'

/**
 * The injected vote extensions (docs/decisions/0022). CometBFT v0.38 gives the previous height's vote
 * extensions to the proposer only (PrepareProposal's `local_last_commit`); to make them part of the block,
 * the proposer puts that extended commit as the block's first tx, as this prefix followed by the
 * protobuf `tendermint.abci.ExtendedCommitInfo`. The prefix's first byte 0xff is a protobuf tag with the
 * invalid wire type 7, so no TxRaw (which starts with 0x0a) can be mistaken for it, and no injection decodes
 * as a TxRaw.
 */
export const INJECTED_PREFIX = Uint8Array.from(Buffer.from('\xffberyl/vote-extensions/v1\x00', 'latin1'))

/** The largest injection accepted (a few hundred validators' extensions fit easily). */
export const MAX_INJECTED_BYTES = 1 << 20

const BLOCK_ID_FLAG_COMMIT = 2

export function isInjected(tx: Uint8Array): boolean {
  if (tx.length < INJECTED_PREFIX.length) return false
  for (let i = 0; i < INJECTED_PREFIX.length; i++) if (tx[i] !== INJECTED_PREFIX[i]) return false
  return true
}

export function encodeInjected(commit: ExtendedCommitInfo): Uint8Array {
  const body = ExtendedCommitInfo.encode(commit).finish()
  const out = new Uint8Array(INJECTED_PREFIX.length + body.length)
  out.set(INJECTED_PREFIX)
  out.set(body, INJECTED_PREFIX.length)
  return out
}

/** The extended commit of an injected tx; throws with a reason when it is not one. */
export function decodeInjected(tx: Uint8Array): ExtendedCommitInfo {
  if (!isInjected(tx)) throw new Error('the first tx is not an injected vote-extension commit')
  if (tx.length > MAX_INJECTED_BYTES) throw new Error(`injected vote extensions of ${tx.length} bytes exceed ${MAX_INJECTED_BYTES}`)
  try {
    return ExtendedCommitInfo.decode(tx.subarray(INJECTED_PREFIX.length))
  } catch (err) {
    throw new Error(`undecodable injected vote extensions: ${(err as Error).message}`)
  }
}

/** The commit votes of the previous height that carry an extension (what modules see). */
export function injectedExtensions(commit: ExtendedCommitInfo): InjectedExtension[] {
  return commit.votes
    .filter((v) => v.validator && v.blockIdFlag === BLOCK_ID_FLAG_COMMIT && v.voteExtension.length > 0)
    .map((v) => ({ address: v.validator.address, power: v.validator.power, extension: v.voteExtension }))
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

const uvarint = (n: number): Buffer => {
  const out: number[] = []
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return Buffer.from(out)
}

/**
 * What CometBFT signs for a vote extension: the uvarint-length-delimited protobuf
 * `tendermint.types.CanonicalVoteExtension{extension = 1, height = 2 (sfixed64), round = 3 (sfixed64), chain_id = 4}`
 * (zero fields omitted, as gogoproto marshals them).
 */
export function extensionSignBytes(extension: Uint8Array, height: bigint, round: number, chainId: string): Uint8Array {
  const parts: Buffer[] = []
  const fixed64 = (tag: number, v: bigint) => {
    if (v === 0n) return
    const b = Buffer.alloc(8)
    b.writeBigInt64LE(v)
    parts.push(Buffer.of(tag), b)
  }
  if (extension.length) parts.push(Buffer.of(0x0a), uvarint(extension.length), Buffer.from(extension))
  fixed64(0x11, height)
  fixed64(0x19, BigInt(round))
  const id = Buffer.from(chainId, 'utf8')
  if (id.length) parts.push(Buffer.of(0x22), uvarint(id.length), id)
  const body = Buffer.concat(parts)
  return Buffer.concat([uvarint(body.length), body])
}

const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex')

/** ed25519 verification (node:crypto); false for any malformed key or signature, never an exception. */
export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  try {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI, publicKey]), format: 'der', type: 'spki' })
    return cryptoVerify(null, message, key, signature)
  } catch {
    return false
  }
}

/**
 * Checks an injected extended commit against the block's `proposed_last_commit` (which CometBFT itself
 * validated against the previous height's validator set): every injected vote is a validator of that
 * commit with its power, at most once, a COMMIT vote where CometBFT saw one; every extension verifies
 * (`verify`: its signature and its content); and the verified extensions hold more than 2/3 of the previous set's voting power.
 * Returns why the injection is invalid, or undefined.
 */
export function checkInjected(
  commit: ExtendedCommitInfo,
  lastCommit: { round: number; votes: Array<{ validator?: { address: Uint8Array; power: bigint }; blockIdFlag: number }> },
  verify: (address: Uint8Array, extension: Uint8Array, signature: Uint8Array, round: number) => string | undefined,
): string | undefined {
  if (commit.round !== lastCommit.round) return `injected commit round ${commit.round} is not the last commit's round ${lastCommit.round}`
  const known = new Map<string, { power: bigint; flag: number }>()
  let total = 0n
  for (const v of lastCommit.votes) {
    if (!v.validator) continue
    known.set(hex(v.validator.address), { power: v.validator.power, flag: v.blockIdFlag })
    total += v.validator.power
  }
  const seen = new Set<string>()
  let extended = 0n
  for (const [i, v] of commit.votes.entries()) {
    if (!v.validator) return `injected vote ${i} has no validator`
    const a = hex(v.validator.address)
    const k = known.get(a)
    if (!k) return `injected vote ${i}: ${a} is not a validator of the last commit`
    if (seen.has(a)) return `injected vote ${i}: ${a} appears twice`
    seen.add(a)
    if (v.validator.power !== k.power) return `injected vote ${i}: ${a} has power ${v.validator.power}, the last commit says ${k.power}`
    if (v.blockIdFlag !== BLOCK_ID_FLAG_COMMIT) {
      if (v.voteExtension.length > 0) return `injected vote ${i}: ${a} carries an extension without a commit vote`
      continue
    }
    if (k.flag !== BLOCK_ID_FLAG_COMMIT) return `injected vote ${i}: ${a} did not sign the last commit`
    const why = verify(v.validator.address, v.voteExtension, v.extensionSignature, commit.round)
    if (why) return `injected vote ${i}: ${a}: ${why}`
    extended += k.power
  }
  if (total === 0n || 3n * extended <= 2n * total) return `injected extensions hold ${extended} of ${total} voting power, not more than 2/3`
  return undefined
}
