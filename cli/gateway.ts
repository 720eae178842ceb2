// The validator's gateway, wired to Beryl's modules: which accounts are nodes, which tasks a node
// must run or upload, how an uploaded output is checked against its on-chain score, and the
// attester that puts a checked output's hash on chain.
import fs from 'node:fs'
import path from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { homePaths, readAppConfig } from '../chain/node/config.ts'
import type { OfflineDirectSigner } from '@cosmjs/proto-signing'
import type { BerylApp } from '../chain/app.ts'
import { Gateway, type GatewayBackend, type GatewayMetrics } from '../chain/gateway/gateway.ts'
import type { StoredResult } from '../chain/gateway/results.ts'
import { type BroadcastResult, TxSender } from '../sdk/sender.ts'
import { berylRegistry } from '../sdk/registry.ts'
import { MsgAttestResult } from '../proto/gen/beryl/task/v1/tx.ts'
import { type Task, TaskStatus, TaskType } from '../proto/gen/beryl/task/v1/types.ts'
import { checkOutputs } from '../worker/outputs.ts'
import type { BerylModules } from '../modules/index.ts'
import { BECH32_PREFIX } from '../modules/auth/index.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** The gateway's libp2p key, kept in the home so that its peer id (in workers' configs) survives restarts. */
export async function loadGatewayKey(file: string): Promise<PrivateKey> {
  if (fs.existsSync(file)) return privateKeyFromProtobuf(Buffer.from(JSON.parse(fs.readFileSync(file, 'utf8')).key, 'base64'))
  const key = await generateKeyPair('Ed25519')
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, JSON.stringify({ type: 'Ed25519', key: Buffer.from(privateKeyToProtobuf(key)).toString('base64') }) + '\n', { mode: 0o600 })
  return key
}

/** The gateway's dialable multiaddr (with /p2p/<peer id>) from a node home; undefined when the gateway is off. */
export async function gatewayAddress(home: string): Promise<string | undefined> {
  const addr = readAppConfig(home).gateway?.address
  if (!addr) return undefined
  return `${addr}/p2p/${peerIdFromPrivateKey(await loadGatewayKey(homePaths(home).gatewayKey)).toString()}`
}

/** CometBFT's broadcast_tx_sync over its JSON-RPC. */
export async function broadcastViaRpc(rpc: string, tx: Uint8Array): Promise<BroadcastResult> {
  try {
    const res = await fetch(rpc, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'broadcast_tx_sync', params: { tx: Buffer.from(tx).toString('base64') } }),
      signal: AbortSignal.timeout(15_000),
    })
    const j = await res.json() as { result?: { code: number; codespace?: string; log?: string; hash: string }; error?: { message: string; data?: string } }
    if (j.error) return { code: 1, codespace: 'gateway', log: `${j.error.message}${j.error.data ? ': ' + j.error.data : ''}`, txhash: '' }
    return { code: j.result!.code, codespace: j.result!.codespace ?? '', log: j.result!.log ?? '', txhash: j.result!.hash }
  } catch (err) {
    return { code: 1, codespace: 'gateway', log: `the node's RPC is unreachable: ${(err as Error).message}`, txhash: '' }
  }
}

/** Blocks after which an attestation that did not land is sent again. */
const ATTEST_RETRY_BLOCKS = 5n
const ATTEST_GAS = 400_000

/**
 * Sends MsgAttestResult for every stored output whose task is still validated, and again if it
 * has not landed after a few blocks (a dropped tx, a restart). Needs an account listed in the task
 * module's `attesters` parameter.
 */
class Attester {
  private readonly pending = new Map<string, { task: Uint8Array; resultHash: Uint8Array; sentAt?: bigint }>()
  private readonly sender: TxSender

  constructor(private readonly o: { app: BerylApp; keepers: BerylModules['keepers']; chainId: string; signer: OfflineDirectSigner; address: string; gasPrice: string; broadcast: (tx: Uint8Array) => Promise<BroadcastResult>; log: (m: string) => void }) {
    this.sender = new TxSender({
      signer: o.signer, address: o.address, chainId: o.chainId, registry: berylRegistry(), gasPrice: o.gasPrice, broadcast: o.broadcast,
      account: async () => {
        const a = o.keepers.auth.getAccount(o.app.queryContext(), o.address)
        return a && { accountNumber: a.accountNumber, sequence: a.sequence }
      },
    })
  }

  add(task: Uint8Array, resultHash: Uint8Array): void {
    if (!this.pending.has(hex(task))) this.pending.set(hex(task), { task, resultHash })
  }

  /** After each commit: drop what landed, (re)send what is due. */
  async onCommitted(height: bigint): Promise<void> {
    const ctx = this.o.app.queryContext()
    if (!this.o.keepers.task.params(ctx).attesters.includes(this.o.address)) {
      if (this.pending.size) this.o.log(`gateway: ${this.o.address} is not in the task module's attesters; ${this.pending.size} output(s) wait for attestation`)
      return
    }
    for (const [id, p] of this.pending) {
      const t = this.o.keepers.task.getTask(ctx, p.task)
      if (!t || (t.status !== TaskStatus.TASK_STATUS_VALIDATED && t.status !== TaskStatus.TASK_STATUS_GROUP_VALIDATED)) { this.pending.delete(id); continue }
      if (p.sentAt !== undefined && height - p.sentAt < ATTEST_RETRY_BLOCKS) continue
      if (p.sentAt !== undefined) this.sender.resync()
      p.sentAt = height
      const msg = { typeUrl: '/beryl.task.v1.MsgAttestResult', value: MsgAttestResult.fromPartial({ attester: this.o.address, taskIdCommitment: p.task, resultHash: p.resultHash }) }
      const res = await this.sender.send([msg], ATTEST_GAS).catch((err: Error) => ({ code: 1, log: err.message, txhash: '' }))
      this.o.log(res.code === 0 ? `gateway: attested task ${id} (tx ${res.txhash})` : `gateway: attesting task ${id} failed: ${res.log}`)
    }
  }
}

export interface BerylGatewayOptions {
  app: BerylApp
  keepers: BerylModules['keepers']
  chainId: string
  listen: string[]
  keyFile: string
  resultDir: string
  cometRpc: string
  /** The attester's key; without it outputs are stored but not attested. */
  attester?: { signer: OfflineDirectSigner; address: string; gasPrice: string }
  resultTtlMs?: number
  connectionsPerHostPerSecond?: number
  log: (m: string) => void
  metrics?: GatewayMetrics
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
  const backend: GatewayBackend = {
    isNode: (a) => keepers.staking.getNode(app.queryContext(), a) !== undefined,
    nodeTasks: async (a) => (await keepers.task.listTasks(app.queryContext(), { node: a, limit: 16 })).tasks,
    task: (c) => keepers.task.getTask(app.queryContext(), c),
    verifyOutputs: checkOutputs,
    broadcastTx: broadcast,
    onResultStored: (t: Task, s: StoredResult) => attester?.add(t.taskIdCommitment, Buffer.from(s.resultHash, 'hex')),
  }
  const gateway = new Gateway({
    chainId: o.chainId, bech32Prefix: BECH32_PREFIX, listen: o.listen, privateKey: await loadGatewayKey(o.keyFile),
    backend, resultDir: o.resultDir, log: o.log, metrics: o.metrics,
    limits: { ...(o.resultTtlMs ? { ttlMs: o.resultTtlMs } : {}), ...(o.connectionsPerHostPerSecond ? { connectionsPerHostPerSecond: o.connectionsPerHostPerSecond } : {}) },
  })
  await gateway.start()
  // Outputs stored before a restart whose attestation may not have landed.
  if (attester) {
    const ctx = app.queryContext()
    for (const f of fs.readdirSync(path.join(o.resultDir, 'tasks')).filter((n) => /^[0-9a-f]{64}\.json$/.test(n))) {
      const s = gateway.results.get(f.slice(0, 64))
      const t = s && keepers.task.getTask(ctx, Buffer.from(s.task, 'hex'))
      if (s && t) attester.add(t.taskIdCommitment, Buffer.from(s.resultHash, 'hex'))
    }
  }
  let attesting: Promise<void> | undefined
  return {
    gateway,
    onCommitted(height) {
      gateway.notifyCommitted(height)
      if (attester && !attesting) attesting = attester.onCommitted(height).catch((err) => o.log(`gateway: attester: ${(err as Error).message}`)).finally(() => { attesting = undefined })
    },
    stop: () => gateway.stop(),
  }
}
