// Committed bank-send throughput of one Beryl validator, against CometBFT's built-in kvstore
// app on the same machine in the same run (same block timing, same number of txs, similar
// size, same broadcast concurrency). Usage: npm run bench:tps [-- --txs 8000 --accounts 200 --concurrency 200]
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { SigningStargateClient } from '@cosmjs/stargate'
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import { cometbftBinary } from '../chain/node/cometbft.ts'
import { patchCometConfig } from '../chain/node/config.ts'
import { pickPorts, waitForHeight } from '../cli/devnet.ts'
import { startTestNode } from '../test/helpers/node.ts'

const { values } = parseArgs({
  options: { txs: { type: 'string', default: '8000' }, accounts: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '200' } },
})
const N = Number(values.txs),
  ACCOUNTS = Number(values.accounts),
  CONCURRENCY = Number(values.concurrency)
const BLOCK_TIME = '500ms'

const log = (m: string) => process.stderr.write(m + '\n')

// The load generator shares the 2 cores with CometBFT and the app, so it uses keep-alive
// node:http (fetch costs several times more CPU per request).
const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 })
function rpc(url: string, method: string, params: Record<string, unknown>): Promise<any> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
          } catch (err) {
            reject(err)
          }
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/**
 * Broadcasts every tx (sync) with bounded concurrency; returns how many CheckTx accepted. Each
 * broadcaster owns whole groups (one group = one account's txs in sequence order), so no
 * account's txs ever overtake each other.
 */
async function broadcastAll(url: string, groups: Uint8Array[][]): Promise<number> {
  let ok = 0
  const worker = async (k: number) => {
    const mine = groups.filter((_, i) => i % CONCURRENCY === k).map((g) => [...g])
    while (mine.some((g) => g.length)) {
      for (const g of mine) {
        const tx = g.shift()
        if (!tx) continue
        const r = await rpc(url, 'broadcast_tx_sync', { tx: Buffer.from(tx).toString('base64') })
        if (r.result?.code === 0) ok++
        else log(`  rejected: ${JSON.stringify(r.result ?? r.error).slice(0, 200)}`)
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, k) => worker(k)))
  return ok
}

/** Waits until `expected` txs are in blocks after `fromHeight`; returns tx/s from block header times. */
async function committedRate(url: string, fromHeight: number, expected: number): Promise<{ tps: number; blocks: number; seconds: number }> {
  const deadline = Date.now() + 300_000
  for (;;) {
    const status = await rpc(url, 'status', {})
    const top = Number(status.result.sync_info.latest_block_height)
    const metas: Array<{ header: { height: string; time: string }; num_txs: string }> = []
    for (let lo = fromHeight; lo <= top; lo += 20) {
      const r = await rpc(url, 'blockchain', { minHeight: String(lo), maxHeight: String(Math.min(top, lo + 19)) })
      metas.push(...r.result.block_metas)
    }
    metas.sort((a, b) => Number(a.header.height) - Number(b.header.height))
    const total = metas.reduce((a, m) => a + Number(m.num_txs), 0)
    if (total >= expected) {
      const withTxs = metas.filter((m) => Number(m.num_txs) > 0)
      const first = withTxs[0]!,
        last = withTxs[withTxs.length - 1]!
      const prev = metas.find((m) => Number(m.header.height) === Number(first.header.height) - 1) ?? first
      const seconds = (Date.parse(last.header.time) - Date.parse(prev.header.time)) / 1000
      return { tps: total / seconds, blocks: withTxs.length, seconds }
    }
    if (Date.now() > deadline) throw new Error(`only ${total} of ${expected} txs committed`)
    await new Promise((r) => setTimeout(r, 300))
  }
}

async function benchBeryl(): Promise<{ tps: number; blocks: number; seconds: number; txBytes: number }> {
  log(`Beryl: starting a validator with ${ACCOUNTS} funded accounts…`)
  const node = await startTestNode({ accounts: ACCOUNTS })
  try {
    // startTestNode uses 200 ms blocks; the comparison needs equal block timing on both sides.
    await node.stop()
    patchCometConfig(path.join(node.home, 'config', 'config.toml'), [['consensus', 'timeout_commit', BLOCK_TIME]])
    await node.start()
    log(`Beryl: pre-signing ${N} bank sends…`)
    const per = Math.ceil(N / ACCOUNTS)
    const txs: Uint8Array[] = []
    const reader = await (await import('@cosmjs/stargate')).StargateClient.connect(node.rpc)
    const recipient = node.accounts[0]!.address
    for (let a = 0; a < ACCOUNTS && txs.length < N; a++) {
      const acc = node.accounts[a]!
      const wallet = await DirectSecp256k1HdWallet.fromMnemonic(acc.mnemonic, { prefix: 'beryl' })
      const signer = await SigningStargateClient.offline(wallet)
      const { accountNumber } = await reader.getSequence(acc.address)
      for (let i = 0; i < per && txs.length < N; i++) {
        const msg = {
          typeUrl: '/cosmos.bank.v1beta1.MsgSend',
          value: { fromAddress: acc.address, toAddress: recipient, amount: [{ denom: 'uberyl', amount: '1' }] },
        }
        const tx = await signer.sign(acc.address, [msg], { amount: [{ denom: 'uberyl', amount: '2000' }], gas: '80000' }, '', {
          accountNumber,
          sequence: i,
          chainId: node.chainId,
        })
        txs.push(TxRaw.encode(tx).finish())
      }
    }
    reader.disconnect()
    const groups: Uint8Array[][] = []
    for (let a = 0; a * per < txs.length; a++) groups.push(txs.slice(a * per, (a + 1) * per))
    const avg = Math.round(txs.reduce((s, t) => s + t.length, 0) / txs.length)
    const h0 = Number((await rpc(node.rpc, 'status', {})).result.sync_info.latest_block_height)
    log(`Beryl: broadcasting ${txs.length} txs (${avg} bytes each)…`)
    const ok = await broadcastAll(node.rpc, groups)
    if (ok !== txs.length) throw new Error(`CheckTx accepted ${ok} of ${txs.length}`)
    const r = await committedRate(node.rpc, h0 + 1, ok)
    return { ...r, txBytes: avg }
  } finally {
    await node.cleanup()
  }
}

async function benchKvstore(txBytes: number): Promise<{ tps: number; blocks: number; seconds: number }> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-bench-kv-'))
  const bin = cometbftBinary()
  spawnSync(bin, ['init', '--home', home])
  const ports = await pickPorts(true)
  patchCometConfig(path.join(home, 'config', 'config.toml'), [
    ['rpc', 'laddr', `tcp://127.0.0.1:${ports.rpc}`],
    ['p2p', 'laddr', `tcp://127.0.0.1:${ports.p2p}`],
    ['consensus', 'timeout_commit', BLOCK_TIME],
    ['mempool', 'size', 20000],
    ['instrumentation', 'prometheus', false],
  ])
  const url = `http://127.0.0.1:${ports.rpc}`
  log('kvstore: starting cometbft --proxy_app=kvstore…')
  const child = spawn(bin, ['start', '--home', home, '--proxy_app=kvstore'], { stdio: 'ignore' })
  try {
    await waitForHeight(url, 1n)
    const txs: Uint8Array[] = []
    for (let i = 0; i < N; i++) {
      // key=value, padded to the size of a Beryl send.
      const key = `k${i}`
      const value = createHash('sha256')
        .update(key)
        .digest('hex')
        .repeat(Math.ceil(txBytes / 64))
        .slice(0, Math.max(1, txBytes - key.length - 1))
      txs.push(Buffer.from(`${key}=${value}`))
    }
    const h0 = Number((await rpc(url, 'status', {})).result.sync_info.latest_block_height)
    log(`kvstore: broadcasting ${N} txs (${txs[0]!.length} bytes each)…`)
    const groups: Uint8Array[][] = Array.from({ length: ACCOUNTS }, (_, a) => txs.filter((_, i) => i % ACCOUNTS === a))
    const ok = await broadcastAll(url, groups)
    return await committedRate(url, h0 + 1, ok)
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
    fs.rmSync(home, { recursive: true, force: true })
  }
}

const beryl = await benchBeryl()
const kv = await benchKvstore(beryl.txBytes)
const ratio = beryl.tps / kv.tps
agent.destroy()
console.log(`
committed throughput, ${N} txs, ${BLOCK_TIME} blocks, ${CONCURRENCY} concurrent broadcasters, ${os.cpus().length} cores
  Beryl bank sends   ${beryl.tps.toFixed(0).padStart(6)} tx/s  (${beryl.blocks} blocks, ${beryl.seconds.toFixed(1)} s, ${beryl.txBytes}-byte txs)
  CometBFT kvstore   ${kv.tps.toFixed(0).padStart(6)} tx/s  (${kv.blocks} blocks, ${kv.seconds.toFixed(1)} s)
  ratio              ${ratio.toFixed(2)} × kvstore
`)
