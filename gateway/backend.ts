// The gateway's Beryl backend: what the protocol server (gateway.ts) asks of the chain, answered
// from the modules' committed state. Which accounts are nodes, which tasks a node must run or
// upload, how an uploaded output is checked against its on-chain score, and how a worker's signed
// transaction reaches the mempool.
import type { BerylApp } from '../chain/app.ts'
import type { BerylModules } from '../modules/index.ts'
import { checkUpload } from '../sdk/outputs.ts'
import type { BroadcastResult } from '../sdk/sender.ts'
import type { GatewayBackend } from './gateway.ts'

/** CometBFT's broadcast_tx_sync over its JSON-RPC; an unreachable node is a refusal with a reason, never a throw. */
export async function broadcastViaRpc(rpc: string, tx: Uint8Array): Promise<BroadcastResult> {
  try {
    const res = await fetch(rpc, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'broadcast_tx_sync', params: { tx: Buffer.from(tx).toString('base64') } }),
      signal: AbortSignal.timeout(15_000),
    })
    const j = (await res.json()) as { result?: { code: number; codespace?: string; log?: string; hash: string }; error?: { message: string; data?: string } }
    if (j.error) return { code: 1, codespace: 'gateway', log: `${j.error.message}${j.error.data ? ': ' + j.error.data : ''}`, txhash: '' }
    return { code: j.result!.code, codespace: j.result!.codespace ?? '', log: j.result!.log ?? '', txhash: j.result!.hash }
  } catch (err) {
    return { code: 1, codespace: 'gateway', log: `the node's RPC is unreachable: ${(err as Error).message}`, txhash: '' }
  }
}

/** The backend over the staking and task keepers, reading the app's last committed state. */
export function berylBackend(o: {
  app: BerylApp
  keepers: BerylModules['keepers']
  broadcast: (tx: Uint8Array) => Promise<BroadcastResult>
  onResultStored?: GatewayBackend['onResultStored']
}): GatewayBackend {
  const { app, keepers } = o
  return {
    isNode: (a) => keepers.staking.getNode(app.queryContext(), a) !== undefined,
    isValidator: (a) => keepers.validator.activeSet(app.queryContext()).some((v) => v.account === a),
    nodeTasks: async (a) => (await keepers.task.listTasks(app.queryContext(), { node: a, limit: 16 })).tasks,
    task: (c) => keepers.task.getTask(app.queryContext(), c),
    verifyOutputs: checkUpload,
    broadcastTx: o.broadcast,
    ...(o.onResultStored ? { onResultStored: o.onResultStored } : {}),
  }
}
