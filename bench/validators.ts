// One validator against four, in the same run on the same machine: the block interval and the
// committed bank-send throughput under the same load (pre-signed sends from the same number of
// accounts, the same broadcast concurrency, the same timeout_commit), both networks from the same
// gentx ceremony code; then how long a new node takes to sync the first --sync-blocks blocks of
// the four-validator chain. Usage: npm run bench:validators [-- --txs 2000 --accounts 20 --sync-blocks 1000]
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { SigningStargateClient, StargateClient } from '@cosmjs/stargate'
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import { homePaths, patchCometConfig } from '../chain/node/config.ts'
import { waitForHeight } from '../cli/devnet.ts'
import { NodeProcess, createFullNode, createValidatorNetwork, type ValidatorNetwork } from '../cli/network.ts'

const { values } = parseArgs({
  options: {
    txs: { type: 'string', default: '2000' },
    accounts: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '20' },
    'sync-blocks': { type: 'string', default: '1000' },
  },
})
const N = Number(values.txs),
  ACCOUNTS = Number(values.accounts),
  CONCURRENCY = Number(values.concurrency),
  SYNC_BLOCKS = Number(values['sync-blocks'])
const BLOCK_TIME = '500ms'
const log = (m: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 })
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
const height = async (url: string) => Number((await rpc(url, 'status', {})).result.sync_info.latest_block_height)

interface Metas {
  height: number
  time: number
  txs: number
}
async function blockMetas(url: string, from: number, to: number): Promise<Metas[]> {
  const out: Metas[] = []
  for (let lo = from; lo <= to; lo += 20) {
    const r = await rpc(url, 'blockchain', { minHeight: String(lo), maxHeight: String(Math.min(to, lo + 19)) })
    for (const m of r.result.block_metas) out.push({ height: Number(m.header.height), time: Date.parse(m.header.time), txs: Number(m.num_txs) })
  }
  return out.sort((a, b) => a.height - b.height)
}

/** Mean block interval (s) over blocks (from, to]. */
async function blockInterval(url: string, from: number, to: number): Promise<number> {
  const m = await blockMetas(url, from, to)
  return (m[m.length - 1]!.time - m[0]!.time) / 1000 / (m.length - 1)
}

interface LoadResult {
  tps: number
  seconds: number
  blocks: number
  idleInterval: number
  loadInterval: number
}

/** Idle block interval, then N pre-signed sends broadcast to validator 0, committed tx/s from block times. */
async function load(net: ValidatorNetwork): Promise<LoadResult> {
  const url = net.validators[0]!.rpc
  const h0 = await height(url)
  await waitForHeight(url, BigInt(h0 + 20))
  const idleInterval = await blockInterval(url, h0, h0 + 20)
  const per = Math.ceil(N / ACCOUNTS)
  const reader = await StargateClient.connect(url)
  const groups: Uint8Array[][] = []
  for (const acc of net.accounts.slice(0, ACCOUNTS)) {
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(acc.mnemonic, { prefix: 'beryl' })
    const signer = await SigningStargateClient.offline(wallet)
    const { accountNumber, sequence } = await reader.getSequence(acc.address)
    const g: Uint8Array[] = []
    for (let i = 0; i < per; i++) {
      const msg = {
        typeUrl: '/cosmos.bank.v1beta1.MsgSend',
        value: { fromAddress: acc.address, toAddress: net.accounts[0]!.address, amount: [{ denom: 'uberyl', amount: '1' }] },
      }
      g.push(
        TxRaw.encode(
          await signer.sign(acc.address, [msg], { amount: [{ denom: 'uberyl', amount: '2000' }], gas: '80000' }, '', {
            accountNumber,
            sequence: sequence + i,
            chainId: net.chainId,
          }),
        ).finish(),
      )
    }
    groups.push(g)
  }
  reader.disconnect()
  const total = groups.reduce((a, g) => a + g.length, 0)
  const start = await height(url)
  let accepted = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, k) => {
      for (const g of groups.filter((_, i) => i % CONCURRENCY === k)) {
        for (const tx of g) {
          const r = await rpc(url, 'broadcast_tx_sync', { tx: Buffer.from(tx).toString('base64') })
          if (r.result?.code === 0) accepted++
        }
      }
    }),
  )
  if (accepted !== total) throw new Error(`CheckTx accepted ${accepted} of ${total}`)
  const deadline = Date.now() + 600_000
  for (;;) {
    const top = await height(url)
    const metas = await blockMetas(url, start, top)
    if (metas.reduce((a, m) => a + m.txs, 0) >= total) {
      const withTxs = metas.filter((m) => m.txs > 0)
      const prev = metas.find((m) => m.height === withTxs[0]!.height - 1) ?? withTxs[0]!
      const last = withTxs[withTxs.length - 1]!
      const seconds = (last.time - prev.time) / 1000
      return { tps: total / seconds, seconds, blocks: withTxs.length, idleInterval, loadInterval: seconds / (last.height - prev.height) }
    }
    if (Date.now() > deadline) throw new Error('the load was not committed in 10 minutes')
    await sleep(500)
  }
}

async function network(validators: number, root: string): Promise<{ net: ValidatorNetwork; procs: NodeProcess[] }> {
  log(`${validators} validator(s): gentx ceremony with ${ACCOUNTS} funded accounts…`)
  const net = await createValidatorNetwork(path.join(root, `v${validators}`), {
    validators,
    accounts: ACCOUNTS,
    chainId: `beryl-bench-${validators}`,
    randomPorts: true,
    timeoutCommit: BLOCK_TIME,
  })
  const procs = net.validators.map((v) => new NodeProcess(v.home))
  for (const p of procs) p.start()
  await Promise.all(net.validators.map((v, i) => waitForHeight(v.rpc, 2n, procs[i]!.exited())))
  return { net, procs }
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-bench-validators-'))
  const running: NodeProcess[] = []
  try {
    const one = await network(1, root)
    running.push(...one.procs)
    log('1 validator: load…')
    const r1 = await load(one.net)
    log(`1 validator: ${r1.tps.toFixed(0)} tx/s, block interval ${r1.idleInterval.toFixed(2)} s idle, ${r1.loadInterval.toFixed(2)} s under load`)
    for (const p of one.procs) await p.stop()

    const four = await network(4, root)
    running.push(...four.procs)
    log('4 validators: load…')
    const r4 = await load(four.net)
    log(`4 validators: ${r4.tps.toFixed(0)} tx/s, block interval ${r4.idleInterval.toFixed(2)} s idle, ${r4.loadInterval.toFixed(2)} s under load`)

    // Sync: the chain runs on (faster blocks) to SYNC_BLOCKS, then a fresh node syncs it from the validators.
    for (const [i, p] of four.procs.entries()) {
      await p.stop()
      patchCometConfig(homePaths(four.net.validators[i]!.home).configToml, [['consensus', 'timeout_commit', '50ms']])
      p.start()
    }
    log(`4 validators: producing blocks up to ${SYNC_BLOCKS}…`)
    await waitForHeight(four.net.validators[0]!.rpc, BigInt(SYNC_BLOCKS))
    const node = await createFullNode(root, 'syncing-node', four.net)
    const p = new NodeProcess(node.home)
    running.push(p)
    const t0 = performance.now()
    p.start()
    await waitForHeight(node.rpc, BigInt(SYNC_BLOCKS), p.exited())
    const syncS = (performance.now() - t0) / 1000
    log(`sync: ${SYNC_BLOCKS} blocks in ${syncS.toFixed(1)} s`)

    console.log(`
validators on ${os.cpus().length} cores, same run, same load (${N} pre-signed bank sends from ${ACCOUNTS} accounts, ${CONCURRENCY} broadcasters, timeout_commit ${BLOCK_TIME}):

|                         | 1 validator | 4 validators | 4 / 1 |
|---|---|---|---|
| block interval, idle    | ${r1.idleInterval.toFixed(2)} s | ${r4.idleInterval.toFixed(2)} s | ${(r4.idleInterval / r1.idleInterval).toFixed(2)} |
| block interval, load    | ${r1.loadInterval.toFixed(2)} s | ${r4.loadInterval.toFixed(2)} s | ${(r4.loadInterval / r1.loadInterval).toFixed(2)} |
| committed bank sends    | ${r1.tps.toFixed(0)} tx/s | ${r4.tps.toFixed(0)} tx/s | ${(r4.tps / r1.tps).toFixed(2)} |

a new node (\`init\`, the chain's genesis, validators as peers) synced ${SYNC_BLOCKS} blocks of the 4-validator chain in ${syncS.toFixed(1)} s (${(SYNC_BLOCKS / syncS).toFixed(0)} blocks/s, process start included); the 4 validators' own block interval while producing them was set to 50 ms.`)
  } finally {
    for (const p of running) {
      p.resume()
      await p.stop().catch(() => p.kill())
    }
    fs.rmSync(root, { recursive: true, force: true })
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
