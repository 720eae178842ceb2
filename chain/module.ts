import type { Context, QueryContext } from './context.ts'
import { SdkErrors } from './errors.ts'

export interface ProtoType<T> {
  decode(bytes: Uint8Array): T
  encode(msg: T): { finish(): Uint8Array }
  fromPartial?(obj: unknown): T
}

/** How the runtime routes one message type to its module. */
export interface MsgRoute<T = any> {
  typeUrl: string
  type: ProtoType<T>
  /** The bech32 addresses that must sign a message (from the message's own fields). */
  signers(msg: T): string[]
  /** Stateless checks: addresses, amounts, lengths. Throws a ChainError. */
  validate?(msg: T): void
  /**
   * Executes the message; returns the response to put in TxMsgData. The decoded message is shared
   * (a tx is decoded once and reused from CheckTx to FinalizeBlock): handlers must not modify it.
   */
  handle(ctx: Context, msg: T): Promise<{ typeUrl: string; value: Uint8Array }> | { typeUrl: string; value: Uint8Array }
}

/** A query served on the ABCI query path equal to its gRPC method (`/pkg.Service/Method`). */
export interface QueryRoute {
  path: string
  handle(ctx: QueryContext, request: Uint8Array): Promise<Uint8Array> | Uint8Array
}

/** One vote of the last block's commit, as CometBFT decided it (`decided_last_commit`). */
export interface CommitVote {
  /** The validator's consensus address: sha256(ed25519 key)[:20]. */
  address: Uint8Array
  power: bigint
  /** COMMIT or NIL; false when the validator's vote is absent. */
  signed: boolean
}

/** Evidence of misbehavior that CometBFT committed in this block. */
export interface Misbehavior {
  kind: 'duplicate_vote' | 'light_client_attack'
  address: Uint8Array
  power: bigint
  /** The height and block time of the infraction. */
  height: bigint
  timeSeconds: bigint
}

/** One vote extension of the previous height, as the proposer injected it and ProcessProposal checked it. */
export interface InjectedExtension {
  /** The validator's consensus address. */
  address: Uint8Array
  power: bigint
  extension: Uint8Array
}

/** What consensus tells the application about its validators at the start of a block. */
export interface ConsensusInfo {
  lastCommit: CommitVote[]
  misbehavior: Misbehavior[]
  /**
   * The previous height's vote extensions injected as the block's first tx (only after the vote-extension
   * enable height; undefined before it and in blocks run without consensus, e.g. unit tests).
   */
  voteExtensions?: InjectedExtension[]
}

/**
 * Vote extensions (ABCI 2.0 ExtendVote / VerifyVoteExtension), served by at most one module. Both read the
 * committed state (height - 1 when the vote is for `height`) and never throw for bad input.
 */
export interface VoteExtensionHandler {
  /** This node's extension for its precommit at `height` (empty when it has nothing to add). */
  extend(ctx: QueryContext, height: bigint): Uint8Array
  /**
   * Checks another validator's extension for `height`: undefined when valid, else why not. Must be
   * deterministic and cheap: it runs for every precommit, and again for every injected extension in ProcessProposal.
   */
  verify(ctx: QueryContext, height: bigint, validatorAddress: Uint8Array, extension: Uint8Array): string | undefined
  /**
   * The ed25519 consensus key of a validator by consensus address: with it, ProcessProposal also checks
   * CometBFT's signature over each injected extension (CanonicalVoteExtension sign bytes).
   */
  consensusPubkey?(ctx: QueryContext, validatorAddress: Uint8Array): Uint8Array | undefined
}

/** A change of the consensus validator set (power 0 removes the key). */
export interface ValidatorUpdate {
  ed25519PubKey: Uint8Array
  power: bigint
}

/**
 * The one interface through which the runtime knows a module. A module owns its store prefix
 * (its name), its messages, queries, events, errors and parameters; it reaches other modules
 * only through their exported keepers, never through their keys.
 */
export interface Module {
  name: string
  msgs?: MsgRoute[]
  queries?: QueryRoute[]
  /** Applies the module's part of genesis `app_state` (missing = the module's defaults). */
  /** A module that owns the validator set returns it here (InitChain's validators). */
  initGenesis?(ctx: Context, state: unknown): void | ValidatorUpdate[] | Promise<void | ValidatorUpdate[]>
  exportGenesis?(ctx: QueryContext): unknown | Promise<unknown>
  /** `consensus`: the last commit's votes and this block's evidence (empty at InitChain-time tests). */
  beginBlock?(ctx: Context, consensus: ConsensusInfo): void | Promise<void>
  /** Returns validator set changes, sent to CometBFT in FinalizeBlock (they apply two blocks later). */
  endBlock?(ctx: Context): void | ValidatorUpdate[] | Promise<void | ValidatorUpdate[]>
  /** ExtendVote / VerifyVoteExtension (at most one module); the runtime injects and checks the extensions. */
  voteExtensions?: VoteExtensionHandler
}

/** Decodes a query's request message; garbage is an invalid-request error (code 18), never a crash. */
export function decodeQueryRequest<T>(decode: (b: Uint8Array) => T, bytes: Uint8Array): T {
  try {
    return decode(bytes)
  } catch (err) {
    throw SdkErrors.InvalidRequest.with(`undecodable request: ${(err as Error).message}`)
  }
}
