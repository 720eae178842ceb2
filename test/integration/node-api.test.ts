import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import http2 from 'node:http2'
import net from 'node:net'
import path from 'node:path'
import { promisify } from 'node:util'
import * as grpc from '@grpc/grpc-js'
import SwaggerParser from '@apidevtools/swagger-parser'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { GasPrice, QueryClient, SigningStargateClient, setupAuthExtension, setupBankExtension, setupStakingExtension, setupTxExtension } from '@cosmjs/stargate'
import { Comet38Client } from '@cosmjs/tendermint-rpc'
import { QueryBalanceRequest, QueryBalanceResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { loadApiSchema } from '../../chain/api/schema.ts'
import { readAppConfig } from '../../chain/node/config.ts'
import { berylProtoFiles } from '../../cli/proto-files.ts'
import { ROOT, startTestNode, type TestNode } from '../helpers/node.ts'

const run = promisify(execFile)

/** One sample's value from Prometheus text: `name{labels} value` with every given label matching. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]))
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3])
  }
  return undefined
}
const GRPCURL = path.join(ROOT, '.bin', 'grpcurl')

describe('explorer APIs on a real node: gRPC with reflection, REST with OpenAPI, /metrics', function () {
  this.timeout(120_000)
  let node: TestNode
  let grpcAddr: string
  let rest: string
  let comet: Comet38Client
  let abci: ReturnType<
    typeof QueryClient.withExtensions<
      ReturnType<typeof setupAuthExtension>,
      ReturnType<typeof setupBankExtension>,
      ReturnType<typeof setupTxExtension>,
      ReturnType<typeof setupStakingExtension>
    >
  >
  let alice: string, bob: string
  let sentHash: string
  const grpcurl = async (...args: string[]) => {
    try {
      const r = await run(GRPCURL, ['-plaintext', ...args], { timeout: 30_000 })
      return { code: 0, stdout: r.stdout, stderr: r.stderr }
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string }
      return { code: e.code, stdout: e.stdout, stderr: e.stderr }
    }
  }
  const get = async (p: string, headers: Record<string, string> = {}) => {
    const res = await fetch(rest + p, { headers })
    const text = await res.text()
    let body: any
    try {
      body = JSON.parse(text)
    } catch {
      body = text
    }
    return { status: res.status, headers: res.headers, body }
  }

  before(async () => {
    node = await startTestNode({ accounts: 2 })
    const cfg = readAppConfig(node.home)
    grpcAddr = cfg.grpc.address
    rest = cfg.api.address.replace(/^tcp:\/\//, 'http://')
    alice = node.accounts[0]!.address
    bob = node.accounts[1]!.address
    comet = await Comet38Client.connect(node.rpc)
    abci = QueryClient.withExtensions(comet, setupAuthExtension, setupBankExtension, setupTxExtension, setupStakingExtension)
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(node.accounts[0]!.mnemonic, { prefix: 'beryl' })
    const client = await SigningStargateClient.connectWithSigner(node.rpc, wallet, {
      gasPrice: GasPrice.fromString('0.025uberyl'),
      broadcastPollIntervalMs: 200,
    })
    const r = await client.sendTokens(alice, bob, [{ denom: 'uberyl', amount: '1234' }], 'auto', 'explorer test')
    assert.equal(r.code, 0)
    sentHash = r.transactionHash
    client.disconnect()
  })
  after(async () => {
    comet?.disconnect()
    await node?.cleanup()
  })

  describe('gRPC (grpcurl, no proto files: server reflection)', () => {
    it('lists every service the node serves', async () => {
      const r = await grpcurl(grpcAddr, 'list')
      assert.equal(r.code, 0, r.stderr)
      const services = r.stdout
        .trim()
        .split('\n')
        .filter((s) => !s.startsWith('grpc.reflection'))
      assert.deepEqual(services.sort(), [
        'beryl.qos.v1.Query',
        'beryl.staking.v1.Query',
        'beryl.task.v1.Query',
        'beryl.validator.v1.Query',
        'beryl.vss.v1.Query',
        'cosmos.auth.v1beta1.Query',
        'cosmos.bank.v1beta1.Query',
        'cosmos.base.tendermint.v1beta1.Service',
        'cosmos.distribution.v1beta1.Query',
        'cosmos.staking.v1beta1.Query',
        'cosmos.tx.v1beta1.Service',
      ])
    })
    it('describes a Beryl message with its fields and enum types', async () => {
      const r = await grpcurl(grpcAddr, 'describe', 'beryl.task.v1.Task')
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /message Task \{/)
      assert.match(r.stdout, /\.beryl\.task\.v1\.TaskStatus status = 16;/)
      assert.match(r.stdout, /repeated \.beryl\.task\.v1\.GroupPayee group_payees = 30;/)
    })
    it('calls bank Balance and gets the same balance as the ABCI query', async () => {
      const r = await grpcurl('-d', JSON.stringify({ address: bob, denom: 'uberyl' }), grpcAddr, 'cosmos.bank.v1beta1.Query/Balance')
      assert.equal(r.code, 0, r.stderr)
      const viaAbci = await abci.bank.balance(bob, 'uberyl')
      assert.deepEqual(JSON.parse(r.stdout), { balance: { denom: 'uberyl', amount: viaAbci.amount } })
      assert.equal(viaAbci.amount, String(1_000_000_000_000n + 1234n))
    })
    it('calls a Beryl task query (Tasks by creator: none yet) and the staking params', async () => {
      const r = await grpcurl('-d', JSON.stringify({ creator: alice }), grpcAddr, 'beryl.task.v1.Query/Tasks')
      assert.equal(r.code, 0, r.stderr)
      assert.deepEqual(JSON.parse(r.stdout), {})
      const p = await grpcurl(grpcAddr, 'beryl.staking.v1.Query/Params')
      assert.equal(p.code, 0, p.stderr)
      assert.equal(JSON.parse(p.stdout).params.min_stake, '400000000')
    })
    it('calls GetLatestBlock: a block of this chain at the latest height', async () => {
      const r = await grpcurl(grpcAddr, 'cosmos.base.tendermint.v1beta1.Service/GetLatestBlock')
      assert.equal(r.code, 0, r.stderr)
      const b = JSON.parse(r.stdout)
      assert.equal(b.block.header.chain_id, node.chainId)
      assert.ok(Number(b.block.header.height) >= 1)
      assert.match(b.block.header.time, /^\d{4}-\d\d-\d\dT/)
    })
    it('x-cosmos-block-height: the latest height or 0 answers (and is echoed); another height is coded error 26', async () => {
      const ok = await grpcurl(
        '-v',
        '-H',
        'x-cosmos-block-height: 0',
        '-d',
        JSON.stringify({ address: bob, denom: 'uberyl' }),
        grpcAddr,
        'cosmos.bank.v1beta1.Query/Balance',
      )
      assert.equal(ok.code, 0, ok.stderr)
      const answered = /Response headers received:[\s\S]*?x-cosmos-block-height: (\d+)/.exec(ok.stdout)?.[1]
      assert.ok(answered && Number(answered) >= 1, ok.stdout)
      const old = await grpcurl(
        '-H',
        'x-cosmos-block-height: 1',
        '-d',
        JSON.stringify({ address: bob, denom: 'uberyl' }),
        grpcAddr,
        'cosmos.bank.v1beta1.Query/Balance',
      )
      assert.notEqual(old.code, 0)
      assert.match(old.stderr, /Code: InvalidArgument/)
      assert.match(old.stderr, /historical queries at 1 are not supported/)
      const bad = await grpcurl('-H', 'x-cosmos-block-height: tomorrow', grpcAddr, 'beryl.task.v1.Query/Params')
      assert.match(bad.stderr, /Code: InvalidArgument[\s\S]*height must be a non-negative integer/)
    })
    it('answers a not-found with NotFound and an invalid address with InvalidArgument', async () => {
      const nf = await grpcurl('-d', JSON.stringify({ task_id_commitment: Buffer.alloc(32, 7).toString('base64') }), grpcAddr, 'beryl.task.v1.Query/Task')
      assert.match(nf.stderr, /Code: NotFound/)
      const bad = await grpcurl('-d', JSON.stringify({ address: 'cosmos1xyz', denom: 'uberyl' }), grpcAddr, 'cosmos.bank.v1beta1.Query/Balance')
      assert.match(bad.stderr, /Code: InvalidArgument/)
    })
    it('limits concurrent streams: the server announces SETTINGS_MAX_CONCURRENT_STREAMS = 100 to every client', async () => {
      const session = http2.connect(`http://${grpcAddr}`)
      try {
        await new Promise<void>((resolve, reject) => {
          session.once('remoteSettings', () => resolve())
          session.once('error', reject)
        })
        assert.equal(session.remoteSettings.maxConcurrentStreams, 100)
      } finally {
        session.close()
      }
    })
    it('a malformed request body and an unknown method get coded errors, and the server keeps serving', async () => {
      const client = new grpc.Client(grpcAddr, grpc.credentials.createInsecure())
      const raw = (method: string, body: Buffer) =>
        new Promise<{ err?: grpc.ServiceError; value?: Buffer }>((resolve) => {
          client.makeUnaryRequest(
            method,
            (b: Buffer) => b,
            (b: Buffer) => b,
            body,
            (err, value) => resolve({ err: err ?? undefined, value }),
          )
        })
      try {
        const garbage = await raw('/cosmos.bank.v1beta1.Query/Balance', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]))
        assert.equal(garbage.err?.code, grpc.status.INVALID_ARGUMENT, String(garbage.err))
        const unknown = await raw('/cosmos.gov.v1.Query/Proposals', Buffer.alloc(0))
        assert.equal(unknown.err?.code, grpc.status.UNIMPLEMENTED)
        const big = await raw('/cosmos.bank.v1beta1.Query/Balance', Buffer.alloc(5 * 1024 * 1024, 1))
        assert.equal(big.err?.code, grpc.status.RESOURCE_EXHAUSTED)
        // Not HTTP/2 at all: the connection is dropped, nothing else happens.
        await new Promise<void>((resolve) => {
          const s = net.connect(Number(grpcAddr.split(':')[1]), '127.0.0.1', () => s.end(Buffer.from('GET / HTTP/1.1\r\n\r\n\x00\x01garbage')))
          s.on('close', () => resolve())
            .on('error', () => resolve())
            .resume()
        })
        const fine = await raw('/cosmos.bank.v1beta1.Query/Balance', Buffer.from(QueryBalanceRequest.encode({ address: bob, denom: 'uberyl' }).finish()))
        assert.equal(fine.err, undefined)
        assert.equal(QueryBalanceResponse.decode(fine.value!).balance?.amount, String(1_000_000_000_000n + 1234n))
      } finally {
        client.close()
      }
    })
  })

  describe('@cosmjs/stargate QueryClient (auth, bank, tx, staking extensions) over the same node', () => {
    it('auth, bank, tx and staking extensions answer (the validator module serves cosmos.staking)', async () => {
      const acc = await abci.auth.account(alice)
      assert.equal(acc?.typeUrl, '/cosmos.auth.v1beta1.BaseAccount')
      assert.equal((await abci.bank.allBalances(bob)).length, 1)
      const tx = await abci.tx.getTx(sentHash)
      assert.equal(tx.txResponse?.code, 0)
      assert.equal(tx.tx?.body?.memo, 'explorer test')
      const vals = await abci.staking.validators('BOND_STATUS_BONDED')
      assert.ok(Array.isArray(vals.validators), 'a Cosmos QueryValidatorsResponse')
    })
  })

  describe('REST (gRPC-gateway paths, proto3 JSON)', () => {
    it('bank balances, auth account and GetTx answer with the same data as the ABCI queries', async () => {
      const bal = await get(`/cosmos/bank/v1beta1/balances/${bob}`)
      assert.equal(bal.status, 200)
      assert.deepEqual(
        bal.body.balances,
        (await abci.bank.allBalances(bob)).map((c) => ({ denom: c.denom, amount: c.amount })),
      )
      assert.ok(Number(bal.headers.get('x-cosmos-block-height')) >= 1)
      const one = await get(`/cosmos/bank/v1beta1/balances/${bob}/by_denom?denom=uberyl`)
      assert.deepEqual(one.body, { balance: { denom: 'uberyl', amount: String(1_000_000_000_000n + 1234n) } })
      const acc = await get(`/cosmos/auth/v1beta1/accounts/${alice}`)
      assert.equal(acc.status, 200)
      assert.equal(acc.body.account['@type'], '/cosmos.auth.v1beta1.BaseAccount')
      assert.equal(acc.body.account.address, alice)
      assert.equal(acc.body.account.sequence, '1', 'int64 as a string')
      assert.equal(acc.body.account.pub_key['@type'], '/cosmos.crypto.secp256k1.PubKey')
      const tx = await get(`/cosmos/tx/v1beta1/txs/${sentHash}`)
      assert.equal(tx.status, 200)
      assert.equal(tx.body.tx_response.txhash, sentHash)
      assert.equal(tx.body.tx.body.messages[0]['@type'], '/cosmos.bank.v1beta1.MsgSend')
      assert.equal(tx.body.tx.body.messages[0].to_address, bob)
      assert.match(tx.body.tx_response.timestamp, /^\d{4}-/)
      const transfers = tx.body.tx_response.events.filter((e: { type: string }) => e.type === 'transfer')
      assert.ok(
        transfers.some((e: { attributes: Array<{ key: string; value: string }> }) => e.attributes.some((a) => a.key === 'recipient' && a.value === bob)),
        `event attributes are text: ${JSON.stringify(transfers)}`,
      )
    })
    it('txs by query (the Cosmos SDK ≥ 0.50 form explorers use), with page and limit', async () => {
      const r = await get(`/cosmos/tx/v1beta1/txs?query=${encodeURIComponent(`message.sender='${alice}'`)}&limit=10&page=1`)
      assert.equal(r.status, 200, JSON.stringify(r.body))
      assert.equal(r.body.total, '1')
      assert.equal(r.body.tx_responses[0].txhash, sentHash)
      const tooMany = await get(`/cosmos/tx/v1beta1/txs?query=${encodeURIComponent('tx.height>0')}&limit=1000`)
      assert.equal(tooMany.status, 400)
      assert.equal(tooMany.body.code, 3)
    })
    it('blocks, node info, syncing and validator sets', async () => {
      const latest = await get('/cosmos/base/tendermint/v1beta1/blocks/latest')
      assert.equal(latest.status, 200)
      assert.equal(latest.body.block.header.chain_id, node.chainId)
      const h = latest.body.block.header.height
      const byHeight = await get(`/cosmos/base/tendermint/v1beta1/blocks/${h}`)
      assert.equal(byHeight.body.block.header.height, h)
      assert.equal(byHeight.body.block_id.hash, latest.body.block_id.hash)
      const info = await get('/cosmos/base/tendermint/v1beta1/node_info')
      assert.equal(info.body.default_node_info.network, node.chainId)
      assert.deepEqual((await get('/cosmos/base/tendermint/v1beta1/syncing')).body, { syncing: false })
      const vals = await get('/cosmos/base/tendermint/v1beta1/validatorsets/latest')
      assert.equal(vals.body.validators.length, 1)
      assert.match(vals.body.validators[0].address, /^berylvalcons1/)
      assert.equal(vals.body.validators[0].pub_key['@type'], '/cosmos.crypto.ed25519.PubKey')
      const withTxs = await get(`/cosmos/tx/v1beta1/txs/block/${h}`)
      assert.equal(withTxs.status, 200)
      assert.equal(withTxs.body.block.header.height, h)
    })
    it('Beryl queries at /beryl/<module>/v1/<query>, equal to the ABCI answer, enums by name', async () => {
      const schema = loadApiSchema({ chainProtoDir: berylProtoFiles().dir, chainFiles: berylProtoFiles().files })
      const params = await get('/beryl/staking/v1/params')
      assert.equal(params.status, 200)
      const viaAbci = await abci.queryAbci('/beryl.staking.v1.Query/Params', new Uint8Array())
      assert.deepEqual(params.body, schema.methods.get('/beryl.staking.v1.Query/Params')!.responseJson(viaAbci.value))
      const nodes = await get('/beryl/staking/v1/nodes?status=NODE_STATUS_AVAILABLE&limit=10')
      assert.deepEqual(nodes.body, { nodes: [], next_key: '' })
      const rate = await get('/beryl/vss/v1/sampling_rate?fee=1000000')
      assert.equal(rate.status, 200)
      assert.match(rate.body.error, /eligible/)
      const task = await get(`/beryl/task/v1/task?task_id_commitment=${'ab'.repeat(32)}`)
      assert.equal(task.status, 404)
      assert.equal(task.body.code, 5)
    })
    it('errors: grpc-gateway shape, the right HTTP status, the chain codespace and code in headers', async () => {
      const badAddr = await get('/cosmos/bank/v1beta1/balances/beryl1notanaddress')
      assert.equal(badAddr.status, 400)
      assert.deepEqual(Object.keys(badAddr.body).sort(), ['code', 'details', 'message'])
      assert.equal(badAddr.body.code, 3)
      assert.deepEqual(badAddr.body.details, [])
      assert.equal(badAddr.headers.get('x-cosmos-code'), '7')
      const unknownAccount = await get(
        `/cosmos/auth/v1beta1/accounts/${(await (await DirectSecp256k1HdWallet.generate(12, { prefix: 'beryl' })).getAccounts())[0]!.address}`,
      )
      assert.equal(unknownAccount.status, 404)
      assert.equal(unknownAccount.body.code, 5)
      const oldHeight = await get(`/cosmos/bank/v1beta1/balances/${bob}`, { 'x-cosmos-block-height': '1' })
      assert.equal(oldHeight.status, 400)
      assert.equal(oldHeight.headers.get('x-cosmos-code'), '26')
      const badHeight = await get('/cosmos/base/tendermint/v1beta1/blocks/-5')
      assert.equal(badHeight.status, 400)
      const future = await get('/cosmos/base/tendermint/v1beta1/blocks/999999999')
      assert.equal(future.status, 400)
      const badEnum = await get('/beryl/staking/v1/nodes?status=SLEEPY')
      assert.equal(badEnum.status, 400)
      assert.match(badEnum.body.message, /expected one of NODE_STATUS_UNSPECIFIED/)
      const unknownParam = await get(`/cosmos/bank/v1beta1/balances/${bob}?colour=blue`)
      assert.equal(unknownParam.status, 400)
      const page = await get(`/cosmos/bank/v1beta1/balances/${bob}?pagination.limit=5000`)
      assert.equal(page.status, 400)
      assert.match(page.body.message, /exceeds 1000/)
      const notBool = await get(`/cosmos/bank/v1beta1/balances/${bob}?pagination.count_total=maybe`)
      assert.equal(notBool.status, 400)
    })
    it('a module Beryl does not have answers as a Cosmos node without it: 404, code 5 "Not Found"', async () => {
      for (const p of ['/cosmos/slashing/v1beta1/params', '/cosmos/gov/v1/proposals', '/cosmos/distribution/v1beta1/params']) {
        const r = await get(p)
        assert.equal(r.status, 404, p)
        assert.deepEqual(r.body, { code: 5, message: 'Not Found', details: [] })
      }
    })
    it('oversized bodies and query strings are refused with a coded error; the server keeps serving', async () => {
      const big = await fetch(`${rest}/cosmos/tx/v1beta1/txs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tx_bytes: 'A'.repeat(2 * 1024 * 1024), mode: 'BROADCAST_MODE_SYNC' }),
      })
      assert.equal(big.status, 413)
      assert.equal(((await big.json()) as { code: number }).code, 8)
      const longUrl = await get(`/cosmos/bank/v1beta1/balances/${bob}?denom=${'x'.repeat(10_000)}`)
      assert.equal(longUrl.status, 414)
      assert.equal(longUrl.body.code, 3)
      const notJson = await fetch(`${rest}/cosmos/tx/v1beta1/txs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tx_bytes": ' })
      assert.equal(notJson.status, 400)
      assert.equal((await get(`/cosmos/bank/v1beta1/balances/${bob}`)).status, 200)
    })
    it('broadcasts a signed tx (POST /cosmos/tx/v1beta1/txs) and refuses garbage with a chain code', async () => {
      const r = await fetch(`${rest}/cosmos/tx/v1beta1/txs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tx_bytes: Buffer.from('not a tx').toString('base64'), mode: 'BROADCAST_MODE_SYNC' }),
      })
      assert.equal(r.status, 200)
      const body = (await r.json()) as { tx_response: { code: number; codespace: string } }
      assert.equal(body.tx_response.code, 2)
      assert.equal(body.tx_response.codespace, 'sdk')
    })
  })

  describe('OpenAPI and metrics', () => {
    it('/openapi.json is a valid OpenAPI 3 document listing every route', async () => {
      const doc = (await get('/openapi.json')).body
      await SwaggerParser.validate(structuredClone(doc))
      const paths = Object.keys(doc.paths)
      for (const p of [
        '/cosmos/auth/v1beta1/accounts/{address}',
        '/cosmos/bank/v1beta1/balances/{address}',
        '/cosmos/base/tendermint/v1beta1/blocks/latest',
        '/cosmos/tx/v1beta1/txs',
        '/cosmos/tx/v1beta1/txs/{hash}',
        '/beryl/task/v1/task',
        '/beryl/staking/v1/nodes',
        '/beryl/qos/v1/node_qos',
        '/beryl/vss/v1/sampling_rate',
      ]) {
        assert.ok(paths.includes(p), `${p} is documented`)
      }
      assert.ok(doc.paths['/cosmos/tx/v1beta1/txs'].post, 'broadcast documented')
      const ui = await fetch(`${rest}/swagger/`)
      assert.equal(ui.status, 200)
      assert.match(await ui.text(), /swagger-ui/i)
      assert.deepEqual(Object.keys((await get('/swagger/json')).body.paths), paths, 'Swagger UI shows the same document')
      // Every documented GET answers with something other than "no such route".
      for (const p of paths) {
        if (!doc.paths[p].get) continue
        const url = p
          .replace('{address}', bob)
          .replace('{hash}', sentHash)
          .replace('{height}', '1')
          .replace(/\{[^}]+\}/g, 'x')
        const r = await get(url)
        assert.ok(!(r.status === 404 && r.body.message === 'Not Found'), `${url} answers (${r.status})`)
        assert.ok(r.status < 500, `${url}: ${r.status} ${JSON.stringify(r.body)}`)
      }
    })
    it('/metrics parses as Prometheus text and counts blocks, txs and API requests', async () => {
      const scrape = async () => {
        const text = (await get('/metrics')).body as string
        return { families: parsePrometheusTextFormat(text), value: (name: string, labels: Record<string, string> = {}) => sample(text, name, labels) }
      }
      const before = await scrape()
      assert.ok(before.families.some((f) => f.name === 'beryl_abci_duration_seconds' && f.type === 'HISTOGRAM'))
      assert.ok(before.families.some((f) => f.name === 'beryl_mempool_rejected_txs_total' && f.type === 'COUNTER'))
      assert.ok(before.value('beryl_block_height')! >= 1)
      assert.ok(before.value('beryl_txs_total')! >= 1, 'the bank send was counted')
      assert.ok(before.value('beryl_abci_duration_seconds_count', { method: 'finalize_block' })! >= 1)
      assert.equal(before.value('beryl_tasks', { status: 'TASK_STATUS_QUEUED' }), 0)
      assert.equal(before.value('beryl_task_queue_length'), 0)
      const restCount = before.value('beryl_api_request_duration_seconds_count', { api: 'rest', code: '0' }) ?? 0
      await get(`/cosmos/bank/v1beta1/balances/${bob}`)
      await new Promise((r) => setTimeout(r, 600))
      const after = await scrape()
      assert.equal(after.value('beryl_api_request_duration_seconds_count', { api: 'rest', code: '0' }), restCount + 1)
      assert.ok(after.value('beryl_block_height')! > before.value('beryl_block_height')!)
    })
  })
})
