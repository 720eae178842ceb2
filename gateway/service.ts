// The validator's gateway as one service of the node: the protocol server, Beryl's backend, the
// result store and the attester, wired together and driven by block commits.
import fs from 'node:fs'
import path from 'node:path'
import type { OfflineDirectSigner } from '@cosmjs/proto-signing'
import type { BerylApp } from '../chain/app.ts'
import { BECH32_PREFIX } from '../modules/auth/index.ts'
import type { BerylModules } from '../modules/index.ts'
import { type Task, TaskStatus } from '../modules/task/index.ts'
import { Attester } from './attester.ts'
import { Replicator } from './replicator.ts'
import { berylBackend, broadcastViaRpc } from './backend.ts'
import { Gateway, type GatewayMetrics } from './gateway.ts'
import { loadGatewayKey } from './key.ts'
import type { StoredResult } from './results.ts'

export interface BerylGatewayOptions {
  /** Counts what the gateway does, for the node's /metrics (optional). */
  metrics?: GatewayMetrics
  app: BerylApp
  keepers: BerylModules['keepers']
  chainId: string
  listen: string[]
  keyFile: string
  resultDir: string
  cometRpc: string
  /** The attester's key; without it outputs are stored but not attested. */
  attester?: { signer: OfflineDirectSigner; address: string; gasPrice: string }
  /** The other validators' gateways, from which outputs are replicated (needs the attester: pulls are authenticated with its key). */
  peers?: string[]
  resultTtlMs?: number
  connectionsPerHostPerSecond?: number
  log: (m: string) => void
}

export interface RunningGateway {
  gateway: Gateway
  onCommitted(height: bigint): void
  stop(): Promise<void>
}

export async function startBerylGateway(o: BerylGatewayOptions): Promise<RunningGateway> {
  const { app, keepers } = o
  const broadcast = (tx: Uint8Array) => broadcastViaRpc(o.cometRpc, tx)
  const attester = o.attester && new Attester({ app, keepers, chainId: o.chainId, ...o.attester, broadcast, log: o.log })
  const backend = berylBackend({
    app,
    keepers,
    broadcast,
    onResultStored: (t: Task, s: StoredResult) => attester?.add(t.taskIdCommitment, s),
  })
  const gateway = new Gateway({
    chainId: o.chainId,
    bech32Prefix: BECH32_PREFIX,
    listen: o.listen,
    privateKey: await loadGatewayKey(o.keyFile),
    backend,
    resultDir: o.resultDir,
    log: o.log,
    metrics: o.metrics,
    limits: {
      ...(o.resultTtlMs ? { ttlMs: o.resultTtlMs } : {}),
      ...(o.connectionsPerHostPerSecond ? { connectionsPerHostPerSecond: o.connectionsPerHostPerSecond } : {}),
    },
  })
  await gateway.start()
  // Outputs stored before a restart whose attestation may not have landed.
  if (attester) {
    const ctx = app.queryContext()
    for (const f of fs.readdirSync(path.join(o.resultDir, 'tasks')).filter((n) => /^[0-9a-f]{64}\.json$/.test(n))) {
      const s = gateway.results.get(f.slice(0, 64))
      const t = s && keepers.task.getTask(ctx, Buffer.from(s.task, 'hex'))
      if (s && t) attester.add(t.taskIdCommitment, s)
    }
  }
  const replicator =
    o.attester && o.peers?.length
      ? new Replicator({
          gateway,
          peers: o.peers,
          identity: { chainId: o.chainId, signer: o.attester.signer, address: o.attester.address },
          waiting: async () => {
            const ctx = app.queryContext()
            const list = async (status: TaskStatus) => (await keepers.task.listTasks(ctx, { status, limit: 256 })).tasks
            return [...(await list(TaskStatus.TASK_STATUS_VALIDATED)), ...(await list(TaskStatus.TASK_STATUS_GROUP_VALIDATED))]
          },
          log: o.log,
        })
      : undefined
  let attesting: Promise<void> | undefined
  let replicating: Promise<void> | undefined
  return {
    gateway,
    onCommitted(height) {
      gateway.notifyCommitted(height)
      if (replicator && !replicating)
        replicating = replicator
          .onCommitted(height)
          .catch((err) => o.log(`gateway: replicator: ${(err as Error).message}`))
          .finally(() => {
            replicating = undefined
          })
      if (attester && !attesting)
        attesting = attester
          .onCommitted(height)
          .catch((err) => o.log(`gateway: attester: ${(err as Error).message}`))
          .finally(() => {
            attesting = undefined
          })
    },
    stop: async () => {
      await replicator?.stop()
      await gateway.stop()
    },
  }
}
