import type {
  RequestCheckTx,
  RequestExtendVote,
  RequestVerifyVoteExtension,
  ResponseExtendVote,
  ResponseVerifyVoteExtension,
  RequestFinalizeBlock,
  RequestInfo,
  RequestInitChain,
  RequestPrepareProposal,
  RequestProcessProposal,
  RequestQuery,
  ResponseCheckTx,
  ResponseCommit,
  ResponseFinalizeBlock,
  ResponseInfo,
  ResponseInitChain,
  ResponsePrepareProposal,
  ResponseProcessProposal,
  ResponseQuery,
} from 'cosmjs-types/tendermint/abci/types'

type MaybePromise<T> = T | Promise<T>

/** What the socket server needs from an application (the state-touching ABCI methods). */
export interface AbciApplication {
  info(req: RequestInfo): MaybePromise<Partial<ResponseInfo>>
  initChain(req: RequestInitChain): MaybePromise<Partial<ResponseInitChain>>
  query(req: RequestQuery): MaybePromise<Partial<ResponseQuery>>
  checkTx(req: RequestCheckTx): MaybePromise<Partial<ResponseCheckTx>>
  prepareProposal(req: RequestPrepareProposal): MaybePromise<Partial<ResponsePrepareProposal>>
  processProposal(req: RequestProcessProposal): MaybePromise<Partial<ResponseProcessProposal>>
  finalizeBlock(req: RequestFinalizeBlock): MaybePromise<Partial<ResponseFinalizeBlock>>
  commit(): MaybePromise<Partial<ResponseCommit>>
  /** Optional: without them, ExtendVote answers an empty extension and VerifyVoteExtension ACCEPTs. */
  extendVote?(req: RequestExtendVote): MaybePromise<Partial<ResponseExtendVote>>
  verifyVoteExtension?(req: RequestVerifyVoteExtension): MaybePromise<Partial<ResponseVerifyVoteExtension>>
}
