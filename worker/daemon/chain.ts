import { QueryClient, StargateClient, createProtobufRpcClient } from '@cosmjs/stargate'
import { Comet38Client } from '@cosmjs/tendermint-rpc'
import type { QueryNodeQosResponse } from '../../proto/gen/beryl/qos/v1/query.ts'
import type { Node, NodeRecord, Params as StakingParams } from '../../proto/gen/beryl/staking/v1/types.ts'
import type { Task, TaskStatus } from '../../proto/gen/beryl/task/v1/types.ts'
import { type BerylQueries, berylQueries, orUndefined } from '../../sdk/queries.ts'
import type { BroadcastResult } from '../../sdk/sender.ts'
import { DENOM } from '../../modules/common/amounts.ts'

/** What a worker reads from the chain, over a node's CometBFT RPC. */
export class ChainClient {
  private constructor(
    readonly url: string,
    private readonly comet: Comet38Client,
    private readonly stargate: StargateClient,
    private readonly q: BerylQueries,
  ) {}

  static async connect(url: string): Promise<ChainClient> {
    let comet: Comet38Client
    try {
      comet = await Comet38Client.connect(url)
    } catch (err) {
      throw new Error(`cannot reach the chain at ${url} (${(err as Error).message}); check node_rpc in worker.toml`)
    }
    return new ChainClient(url, comet, StargateClient.create(comet), berylQueries(createProtobufRpcClient(QueryClient.withExtensions(comet))))
  }

  disconnect(): void {
    this.comet.disconnect()
  }

  async chainId(): Promise<string> {
    return this.stargate.getChainId()
  }
  async height(): Promise<number> {
    return this.stargate.getHeight()
  }

  async account(address: string): Promise<{ accountNumber: bigint; sequence: bigint } | undefined> {
    const a = await this.stargate.getAccount(address)
    return a ? { accountNumber: BigInt(a.accountNumber), sequence: BigInt(a.sequence) } : undefined
  }

  async balance(address: string): Promise<bigint> {
    return BigInt((await this.stargate.getBalance(address, DENOM)).amount)
  }

  node(address: string): Promise<Node | undefined> {
    return orUndefined(this.q.staking.node(address))
  }
  nodeRecord(address: string): Promise<NodeRecord | undefined> {
    return orUndefined(this.q.staking.record(address))
  }
  qos(address: string): Promise<QueryNodeQosResponse | undefined> {
    return orUndefined(this.q.qos.node(address))
  }
  stakingParams(): Promise<StakingParams> {
    return this.q.staking.params()
  }
  task(commitment: Uint8Array): Promise<Task | undefined> {
    return orUndefined(this.q.task.task(commitment))
  }

  async tasksOfNode(node: string, status?: TaskStatus, limit = 20): Promise<Task[]> {
    return (await this.q.task.tasks({ node, limit, ...(status !== undefined ? { hasStatus: true, status } : {}) })).tasks
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
