import { QueryClient, StargateClient, createProtobufRpcClient } from '@cosmjs/stargate'
import { Comet38Client } from '@cosmjs/tendermint-rpc'
import { QueryNodeQosRequest, QueryNodeQosResponse } from '../../proto/gen/beryl/qos/v1/query.ts'
import {
  QueryNodeRecordRequest, QueryNodeRecordResponse, QueryNodeRequest, QueryNodeResponse, QueryParamsRequest as StakingParamsRequest,
  QueryParamsResponse as StakingParamsResponse,
} from '../../proto/gen/beryl/staking/v1/query.ts'
import type { Node, NodeRecord, Params as StakingParams } from '../../proto/gen/beryl/staking/v1/types.ts'
import { QueryTaskRequest, QueryTaskResponse, QueryTasksRequest, QueryTasksResponse } from '../../proto/gen/beryl/task/v1/query.ts'
import type { Task, TaskStatus } from '../../proto/gen/beryl/task/v1/types.ts'
import type { BroadcastResult } from '../../sdk/sender.ts'
import { DENOM } from '../../modules/denom.ts'

/** The Cosmos "not found" code the Beryl queries answer with for a missing record. */
const NOT_FOUND = /not found|code = NotFound|codespace: \w+, code: 22/i

/** What a worker reads from the chain, over a node's CometBFT RPC. */
export class ChainClient {
  private constructor(readonly url: string, private readonly comet: Comet38Client, private readonly stargate: StargateClient, private readonly rpc: ReturnType<typeof createProtobufRpcClient>) {}

  static async connect(url: string): Promise<ChainClient> {
    let comet: Comet38Client
    try {
      comet = await Comet38Client.connect(url)
    } catch (err) {
      throw new Error(`cannot reach the chain at ${url} (${(err as Error).message}); check node_rpc in worker.toml`)
    }
    return new ChainClient(url, comet, StargateClient.create(comet), createProtobufRpcClient(QueryClient.withExtensions(comet)))
  }

  disconnect(): void { this.comet.disconnect() }

  async chainId(): Promise<string> { return this.stargate.getChainId() }
  async height(): Promise<number> { return this.stargate.getHeight() }

  async account(address: string): Promise<{ accountNumber: bigint; sequence: bigint } | undefined> {
    const a = await this.stargate.getAccount(address)
    return a ? { accountNumber: BigInt(a.accountNumber), sequence: BigInt(a.sequence) } : undefined
  }

  async balance(address: string): Promise<bigint> { return BigInt((await this.stargate.getBalance(address, DENOM)).amount) }

  private async maybe<T>(f: () => Promise<T>): Promise<T | undefined> {
    try { return await f() } catch (err) {
      if (NOT_FOUND.test((err as Error).message)) return undefined
      throw err
    }
  }

  node(address: string): Promise<Node | undefined> {
    return this.maybe(async () => QueryNodeResponse.decode(await this.rpc.request('beryl.staking.v1.Query', 'Node', QueryNodeRequest.encode({ address }).finish())).node)
  }

  nodeRecord(address: string): Promise<NodeRecord | undefined> {
    return this.maybe(async () => QueryNodeRecordResponse.decode(await this.rpc.request('beryl.staking.v1.Query', 'NodeRecord', QueryNodeRecordRequest.encode({ address }).finish())).record)
  }

  qos(address: string): Promise<QueryNodeQosResponse | undefined> {
    return this.maybe(async () => QueryNodeQosResponse.decode(await this.rpc.request('beryl.qos.v1.Query', 'NodeQos', QueryNodeQosRequest.encode({ node: address }).finish())))
  }

  async stakingParams(): Promise<StakingParams> {
    return StakingParamsResponse.decode(await this.rpc.request('beryl.staking.v1.Query', 'Params', StakingParamsRequest.encode({}).finish())).params!
  }

  task(commitment: Uint8Array): Promise<Task | undefined> {
    return this.maybe(async () => QueryTaskResponse.decode(await this.rpc.request('beryl.task.v1.Query', 'Task', QueryTaskRequest.encode({ taskIdCommitment: commitment }).finish())).task)
  }

  async tasksOfNode(node: string, status?: TaskStatus, limit = 20): Promise<Task[]> {
    const req = QueryTasksRequest.fromPartial({ node, limit, ...(status !== undefined ? { hasStatus: true, status } : {}) })
    return QueryTasksResponse.decode(await this.rpc.request('beryl.task.v1.Query', 'Tasks', QueryTasksRequest.encode(req).finish())).tasks
  }

  /** broadcast_tx_sync: CheckTx's answer. */
  async broadcast(tx: Uint8Array): Promise<BroadcastResult> {
    const r = await this.comet.broadcastTxSync({ tx })
    return { code: r.code, codespace: r.codespace ?? '', log: r.log ?? '', txhash: Buffer.from(r.hash).toString('hex').toUpperCase() }
  }

  /** Waits for a tx to be in a block; its DeliverTx code and log. */
  async waitForTx(hash: string, timeoutMs = 30_000): Promise<{ code: number; log: string; height: number }> {
    const end = Date.now() + timeoutMs
    for (;;) {
      const t = await this.stargate.getTx(hash).catch(() => null)
      if (t) return { code: t.code, log: t.rawLog ?? '', height: t.height }
      if (Date.now() > end) throw new Error(`transaction ${hash} was not included within ${timeoutMs / 1000} s`)
      await new Promise((r) => setTimeout(r, 300))
    }
  }
}
