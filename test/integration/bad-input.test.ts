import assert from 'node:assert/strict'
import net from 'node:net'
import { createHash } from 'node:crypto'
import { Response } from 'cosmjs-types/tendermint/abci/types'
import { rpcCall, startTestNode, waitFor, type TestNode } from '../helpers/node.ts'

/** Deterministic pseudo-random bytes (the test must be reproducible). */
function noise(seed: string, n: number): Uint8Array {
  const out = new Uint8Array(n)
  let block = createHash('sha256').update(seed).digest()
  for (let i = 0; i < n; i++) {
    if (i % 32 === 0 && i > 0) block = createHash('sha256').update(block).digest()
    out[i] = block[i % 32]!
  }
  return out
}

/** Sends raw bytes on a fresh ABCI connection; resolves with what came back before the server closed it. */
function abciExchange(port: number, payload: Uint8Array, opts: { endAfterWrite?: boolean } = {}): Promise<{ data: Buffer; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let closedByServer = false
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(payload)
      if (opts.endAfterWrite) s.end()
    })
    s.on('data', (d) => chunks.push(d))
    s.on('end', () => {
      closedByServer = true
    })
    s.on('error', () => {})
    s.on('close', () => resolve({ data: Buffer.concat(chunks), closedByServer }))
    setTimeout(() => s.destroy(), 3000)
  })
}

async function expectStillCommitting(node: TestNode): Promise<void> {
  const h = await node.height()
  await waitFor(`a block after ${h}`, async () => ((await node.height()) >= h + 2n ? true : undefined), 20_000)
}

describe('bad input never stops the node', function () {
  this.timeout(120_000)
  let node: TestNode
  before(async () => {
    node = await startTestNode({ accounts: 1 })
  })
  after(async () => {
    await node?.cleanup()
  })

  it('random bytes as transactions get a coded error (tx parse, code 2)', async () => {
    for (let i = 0; i < 40; i++) {
      const bytes = noise(`tx-${i}`, 1 + ((i * 37) % 700))
      const r = await rpcCall(node.rpc, 'broadcast_tx_sync', { tx: Buffer.from(bytes).toString('base64') })
      assert.ok(r.result, `broadcast ${i} answered`)
      assert.notEqual(r.result.code, 0, `random tx ${i} must be rejected`)
      assert.ok([2, 18, 21].includes(r.result.code), `code ${r.result.code} (${r.result.log}) for random tx ${i}`)
      assert.equal(r.result.codespace, 'sdk')
    }
    await expectStillCommitting(node)
  })

  it('a structurally valid tx with garbage inside is rejected with a clear log', async () => {
    // TxRaw { body_bytes: <junk> } — decodes as TxRaw, body does not decode.
    const junk = Buffer.concat([Buffer.from([0x0a, 5]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff])])
    const r = await rpcCall(node.rpc, 'broadcast_tx_sync', { tx: junk.toString('base64') })
    assert.equal(r.result.code, 2)
    assert.match(r.result.log, /not a valid transaction|tx parse error/)
  })

  describe('the ABCI socket', () => {
    it('a garbage frame gets an exception response and that connection is closed', async () => {
      // Wire type 7 does not exist: this body can never decode as a Request.
      const body = Buffer.from([0x0f, 0x01, 0x02, 0x03])
      const r = await abciExchange(node.abciPort, Buffer.concat([Buffer.from([body.length]), body]))
      assert.ok(r.closedByServer)
      assert.ok(r.data.length > 1)
      const res = Response.decode(r.data.subarray(1))
      assert.match(res.exception?.error ?? '', /undecodable ABCI request/)
      await expectStillCommitting(node)
    })

    it('an oversized frame length is refused', async () => {
      // uvarint of 2^40: far above the frame limit.
      const r = await abciExchange(node.abciPort, Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x20]))
      assert.ok(r.closedByServer)
      assert.match(Response.decode(r.data.subarray(1)).exception?.error ?? '', /exceeds the limit/)
      await expectStillCommitting(node)
    })

    it('a varint that never ends is refused', async () => {
      const r = await abciExchange(node.abciPort, Buffer.alloc(12, 0x80))
      assert.ok(r.closedByServer)
      assert.match(Response.decode(r.data.subarray(1)).exception?.error ?? '', /longer than 10 bytes|exceeds the limit/)
    })

    it('a truncated frame followed by a hang-up is dropped quietly', async () => {
      const r = await abciExchange(node.abciPort, Buffer.from([100, 1, 2, 3]), { endAfterWrite: true })
      assert.equal(r.data.length, 0)
      await expectStillCommitting(node)
    })

    it('an empty request (no method set) is refused', async () => {
      const r = await abciExchange(node.abciPort, Buffer.from([0]))
      assert.ok(r.closedByServer)
      assert.match(Response.decode(r.data.subarray(1)).exception?.error ?? '', /empty or unknown ABCI request/)
    })

    it('echo and flush from a foreign client are answered without disturbing consensus', async () => {
      // Request{echo{message:"hi"}} then Request{flush{}}
      const echo = Buffer.from([0x0a, 0x04, 0x0a, 0x02, 0x68, 0x69])
      const flush = Buffer.from([0x12, 0x00])
      const r = await abciExchange(node.abciPort, Buffer.concat([Buffer.from([echo.length]), echo, Buffer.from([flush.length]), flush]), {
        endAfterWrite: true,
      })
      const first = Response.decode(r.data.subarray(1, 1 + r.data[0]!))
      assert.equal(first.echo?.message, 'hi')
      await expectStillCommitting(node)
    })
  })

  describe('queries', () => {
    it('invalid protobuf in a query gets code 18', async () => {
      const r = await rpcCall(node.rpc, 'abci_query', { path: '/cosmos.bank.v1beta1.Query/Balance', data: 'ffffffff' })
      assert.equal(r.result.response.code, 18)
      assert.match(r.result.response.log, /undecodable request/)
      assert.notEqual(r.result.response.height, '0')
    })
    it('an unknown path gets code 6', async () => {
      const r = await rpcCall(node.rpc, 'abci_query', { path: '/no.such.Service/Method', data: '' })
      assert.equal(r.result.response.code, 6)
      assert.match(r.result.response.log, /unknown query path/)
    })
    it('an invalid address gets code 7', async () => {
      // QueryBalanceRequest{address:"nope", denom:"uberyl"}
      const req = Buffer.concat([Buffer.from([0x0a, 4]), Buffer.from('nope'), Buffer.from([0x12, 6]), Buffer.from('uberyl')])
      const r = await rpcCall(node.rpc, 'abci_query', { path: '/cosmos.bank.v1beta1.Query/Balance', data: req.toString('hex') })
      assert.equal(r.result.response.code, 7)
    })
    it('a historical height is refused with code 26', async () => {
      const r = await rpcCall(node.rpc, 'abci_query', { path: '/cosmos.auth.v1beta1.Query/Params', data: '', height: '1' })
      assert.equal(r.result.response.code, 26)
    })
    it('after all of this, the node still commits blocks', async () => {
      await expectStillCommitting(node)
    })
  })
})
