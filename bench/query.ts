// Bank Balance queries per second and p50 latency on one node, three ways in the same run: gRPC
// (:9090, @grpc/grpc-js client), REST (:1317, keep-alive HTTP) and CometBFT's `abci_query` JSON-RPC
// (the anchor: what every cosmjs client uses). Each runs for the same time with the same number of
// concurrent callers. Usage: npm run bench:query [-- --seconds 10 --concurrency 16]
import http from 'node:http'
import { parseArgs } from 'node:util'
import * as grpc from '@grpc/grpc-js'
import { QueryBalanceRequest, QueryBalanceResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query'
import { readAppConfig } from '../chain/node/config.ts'
import { startTestNode } from '../test/helpers/node.ts'

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '16' } } })
const SECONDS = Number(values.seconds),
  CONCURRENCY = Number(values.concurrency)
const log = (m: string) => process.stderr.write(m + '\n')

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 })
function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`HTTP ${res.statusCode}`))))
      })
      .on('error', reject)
  })
}

/** Runs `call` from CONCURRENCY loops for SECONDS; returns queries/s and the median latency (ms). */
async function measure(name: string, call: () => Promise<void>): Promise<{ name: string; qps: number; p50: number }> {
  for (let i = 0; i < 50; i++) await call() // warm-up
  const latencies: number[] = []
  const end = performance.now() + SECONDS * 1000
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now()
        await call()
        latencies.push(performance.now() - t0)
      }
    }),
  )
  latencies.sort((a, b) => a - b)
  return { name, qps: latencies.length / SECONDS, p50: latencies[Math.floor(latencies.length / 2)]! }
}

const node = await startTestNode({ accounts: 1 })
try {
  const cfg = readAppConfig(node.home)
  const address = node.accounts[0]!.address
  const expected = '1000000000000'
  const request = Buffer.from(QueryBalanceRequest.encode({ address, denom: 'uberyl' }).finish())

  const client = new grpc.Client(cfg.grpc.address, grpc.credentials.createInsecure())
  const viaGrpc = () =>
    new Promise<void>((resolve, reject) => {
      client.makeUnaryRequest(
        '/cosmos.bank.v1beta1.Query/Balance',
        (b: Buffer) => b,
        (b: Buffer) => b,
        request,
        (err, v) => {
          if (err) return reject(err)
          if (QueryBalanceResponse.decode(v!).balance?.amount !== expected) return reject(new Error('wrong balance over gRPC'))
          resolve()
        },
      )
    })
  const rest = cfg.api.address.replace(/^tcp:\/\//, 'http://')
  const viaRest = async () => {
    const body = JSON.parse(await httpGet(`${rest}/cosmos/bank/v1beta1/balances/${address}/by_denom?denom=uberyl`))
    if (body.balance.amount !== expected) throw new Error('wrong balance over REST')
  }
  const abciUrl = `${node.rpc}/abci_query?path=${encodeURIComponent('"/cosmos.bank.v1beta1.Query/Balance"')}&data=0x${request.toString('hex')}`
  const viaAbci = async () => {
    const body = JSON.parse(await httpGet(abciUrl))
    if (QueryBalanceResponse.decode(Buffer.from(body.result.response.value, 'base64')).balance?.amount !== expected)
      throw new Error('wrong balance over abci_query')
  }

  log(`bank Balance, ${CONCURRENCY} concurrent callers, ${SECONDS} s each, one node (CometBFT + beryld on this machine)…`)
  const anchor = await measure('CometBFT abci_query (anchor)', viaAbci)
  const results = [anchor, await measure('gRPC', viaGrpc), await measure('REST', viaRest)]
  client.close()
  console.log('| path | queries/s | p50 ms | queries/s vs abci_query |')
  console.log('|---|---|---|---|')
  for (const r of results) console.log(`| ${r.name} | ${r.qps.toFixed(0)} | ${r.p50.toFixed(2)} | ${(r.qps / anchor.qps).toFixed(2)}× |`)
} finally {
  await node.cleanup()
}
process.exit(0)
