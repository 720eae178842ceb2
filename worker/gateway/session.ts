import { createHash } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Stream } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { createLibp2p, type Libp2p } from 'libp2p'
import { toBech32 } from '@cosmjs/encoding'
import { ripemd160 } from '@noble/hashes/legacy.js'
import { Envelope, type Auth } from '../../proto/gen/beryl/gateway/v1/gateway.ts'
import { WORKER_PROTOCOL, authDigest, authDocument } from '../../chain/gateway/auth.ts'

export interface SessionOptions {
  /** The gateway's multiaddr including /p2p/<peer id>. */
  gateway: string
  chainId: string
  /** The node account's secp256k1 secret key (32 bytes). */
  secretKey: Uint8Array
  bech32Prefix?: string
  /** Test hook: change the Auth before it is sent. */
  tamper?: (auth: Auth) => Auth
}

/** A worker's authenticated session with one gateway. */
export class GatewaySession {
  private nextId = 1n
  private constructor(private readonly node: Libp2p, private readonly stream: Stream, private readonly lp: LengthPrefixedStream<Stream>, readonly address: string, readonly lastAuth: Auth) {}

  static async connect(o: SessionOptions): Promise<GatewaySession> {
    const node = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], services: { identify: identify() } })
    try {
      const stream = await node.dialProtocol(multiaddr(o.gateway), WORKER_PROTOCOL)
      const lp = lpStream(stream, { maxDataLength: 1024 * 1024 })
      const challenge = Envelope.decode((await lp.read()).subarray()).challenge
      if (!challenge) throw new Error('the gateway did not send a challenge')
      if (challenge.chainId !== o.chainId) throw new Error(`the gateway serves chain ${challenge.chainId}, not ${o.chainId}`)
      const pubKey = secp256k1.getPublicKey(o.secretKey, true)
      const address = toBech32(o.bech32Prefix ?? 'beryl', ripemd160(createHash('sha256').update(pubKey).digest()))
      const digest = authDigest(authDocument(challenge.chainId, node.peerId.toString(), challenge.nonce))
      let auth: Auth = { address, pubKey, signature: secp256k1.sign(digest, o.secretKey, { prehash: false }) }
      if (o.tamper) auth = o.tamper(auth)
      await lp.write(Envelope.encode({ auth }).finish())
      const result = Envelope.decode((await lp.read()).subarray()).authResult
      if (!result?.ok) throw new Error(`the gateway refused the session: ${result?.error ?? 'no answer'}`)
      return new GatewaySession(node, stream, lp, address, auth)
    } catch (err) {
      await node.stop()
      throw err
    }
  }

  /** Hands a signed tx to the gateway; resolves with CometBFT's CheckTx code and log. */
  async submitTx(tx: Uint8Array): Promise<{ code: number; codespace: string; log: string; txhash: string }> {
    const requestId = this.nextId++
    await this.lp.write(Envelope.encode({ submitTx: { requestId, tx } }).finish())
    const r = Envelope.decode((await this.lp.read()).subarray()).txResult
    if (!r || r.requestId !== requestId) throw new Error('unexpected reply from the gateway')
    return { code: r.code, codespace: r.codespace, log: r.log, txhash: r.txhash }
  }

  async close(): Promise<void> {
    await this.stream.close().catch(() => {})
    await this.node.stop()
  }
}
