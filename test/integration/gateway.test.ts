import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { Gateway } from '../../chain/gateway/gateway.ts'
import { WORKER_PROTOCOL } from '../../chain/gateway/auth.ts'
import { addressFromPubKey } from '../../chain/tx/crypto.ts'
import { Envelope } from '../../proto/gen/beryl/gateway/v1/gateway.ts'
import { GatewaySession } from '../../worker/gateway/session.ts'

const key = (seed: string) => createHash('sha256').update(seed).digest()
const addressOf = (sk: Uint8Array) => addressFromPubKey(secp256k1.getPublicKey(sk, true), 'beryl')

describe('gateway /beryl/worker/1 over real libp2p on loopback', function () {
  this.timeout(60_000)
  const joined = key('joined node')
  const outsider = key('not a node')
  const broadcasts: Uint8Array[] = []
  let gw: Gateway
  let addr: string

  before(async () => {
    gw = new Gateway({
      chainId: 'beryl-gw-1', bech32Prefix: 'beryl', listen: ['/ip4/127.0.0.1/tcp/0'],
      isNode: (a) => a === addressOf(joined),
      broadcastTx: async (tx) => { broadcasts.push(tx); return { code: 0, codespace: '', log: '', txhash: createHash('sha256').update(tx).digest('hex').toUpperCase() } },
      // Every test dials from 127.0.0.1: raise the per-host connection rate.
      limits: { maxTxPerMinute: 3, maxMessageBytes: 4096, connectionsPerHostPerSecond: 1000 },
    })
    await gw.start()
    addr = gw.multiaddrs[0]!
  })
  after(async () => { await gw?.stop() })

  it('a joined node proves its account and hands over signed transactions', async () => {
    const s = await GatewaySession.connect({ gateway: addr, chainId: 'beryl-gw-1', secretKey: joined })
    try {
      assert.equal(s.address, addressOf(joined))
      const r = await s.submitTx(Uint8Array.of(1, 2, 3))
      assert.equal(r.code, 0)
      assert.deepEqual([...broadcasts.at(-1)!], [1, 2, 3])
    } finally { await s.close() }
  })

  it('an account that is not a joined node is refused', async () => {
    await assert.rejects(GatewaySession.connect({ gateway: addr, chainId: 'beryl-gw-1', secretKey: outsider }), /is not a joined GPU node/)
  })

  it('the wrong key for a node\'s address is refused', async () => {
    await assert.rejects(GatewaySession.connect({
      gateway: addr, chainId: 'beryl-gw-1', secretKey: outsider, tamper: (a) => ({ ...a, address: addressOf(joined) }),
    }), /pub_key belongs to/)
    await assert.rejects(GatewaySession.connect({
      gateway: addr, chainId: 'beryl-gw-1', secretKey: joined, tamper: (a) => ({ ...a, signature: secp256k1.sign(new Uint8Array(32).fill(7), outsider, { prehash: false }) }),
    }), /signature does not verify/)
  })

  it('a replayed proof is refused: every challenge has a fresh nonce', async () => {
    const first = await GatewaySession.connect({ gateway: addr, chainId: 'beryl-gw-1', secretKey: joined })
    const captured = first.lastAuth
    await first.close()
    await assert.rejects(GatewaySession.connect({ gateway: addr, chainId: 'beryl-gw-1', secretKey: joined, tamper: () => captured }), /signature does not verify/)
  })

  it('a wrong chain id is caught by the worker before it signs', async () => {
    await assert.rejects(GatewaySession.connect({ gateway: addr, chainId: 'other-chain', secretKey: joined }), /serves chain beryl-gw-1/)
  })

  it('garbage and oversized messages close only that stream; another session goes on', async () => {
    const good = await GatewaySession.connect({ gateway: addr, chainId: 'beryl-gw-1', secretKey: joined })
    const raw = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
    try {
      for (const payload of [Uint8Array.of(0x0f, 1, 2), new Uint8Array(8192).fill(1)]) {
        const stream = await raw.dialProtocol(multiaddr(addr), WORKER_PROTOCOL)
        const lp = lpStream(stream, { maxDataLength: 1 << 20 })
        assert.ok(Envelope.decode((await lp.read()).subarray()).challenge)
        await lp.write(payload).catch(() => {})
        await assert.rejects(lp.read(), 'the gateway closes the stream')
      }
      assert.equal((await good.submitTx(Uint8Array.of(9))).code, 0, 'the honest session is unaffected')
    } finally {
      await raw.stop()
      await good.close()
    }
  })

  it('a session is rate-limited: past the per-minute budget the gateway answers with an error instead of broadcasting', async () => {
    const s = await GatewaySession.connect({ gateway: addr, chainId: 'beryl-gw-1', secretKey: joined })
    try {
      const codes: number[] = []
      for (let i = 0; i < 4; i++) codes.push((await s.submitTx(Uint8Array.of(i))).code)
      assert.deepEqual(codes, [0, 0, 0, 1])
    } finally { await s.close() }
  })
})
