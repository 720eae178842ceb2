import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Stream } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { OfflineDirectSigner } from '@cosmjs/proto-signing'
import { createLibp2p, type Libp2p } from 'libp2p'
import { type Auth, Envelope, ResultRequest, ResultResponse } from '../proto/gen/beryl/gateway/v1/gateway.ts'
import { RESULT_PROTOCOL, authDocument, signAuth } from './auth.ts'

/** Who is speaking to a gateway: an account and the signer that holds its key. */
export interface GatewayIdentity {
  chainId: string
  signer: OfflineDirectSigner
  address: string
  /** Test hook: change the Auth before it is sent. */
  tamper?: (auth: Auth) => Auth
}

/** A libp2p host that dials gateways (it listens nowhere). */
export function createClientHost(): Promise<Libp2p> {
  return createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], services: { identify: identify() } })
}

/** Reads the gateway's challenge on a fresh stream and answers it; returns the Auth sent. */
export async function answerChallenge(
  lp: LengthPrefixedStream<Stream>,
  protocol: string,
  host: Libp2p,
  id: GatewayIdentity,
  wrap: (auth: Auth) => Uint8Array,
): Promise<Auth> {
  const challenge = Envelope.decode((await lp.read({ signal: AbortSignal.timeout(30_000) })).subarray()).challenge
  if (!challenge) throw new Error('the gateway did not send a challenge')
  if (challenge.chainId !== id.chainId) throw new Error(`the gateway serves chain ${challenge.chainId}, not ${id.chainId}`)
  const doc = authDocument(protocol, challenge.chainId, host.peerId.toString(), challenge.nonce)
  let auth = await signAuth(id.signer, id.address, doc, id.chainId)
  if (id.tamper) auth = id.tamper(auth)
  await lp.write(wrap(auth))
  return auth
}

const MAX_RESULT_BYTES = 40 * 1024 * 1024

/**
 * One /beryl/result/1 exchange: authenticate with the request (without its files: the gateway reads at
 * most 4 KiB before authentication), send the files when the gateway asks for them, read the answer.
 */
async function resultExchange(host: Libp2p, gateway: string, id: GatewayIdentity, req: Omit<ResultRequest, 'auth'>): Promise<ResultResponse> {
  const open = () => host.dialProtocol(multiaddr(gateway), RESULT_PROTOCOL, { signal: AbortSignal.timeout(30_000) })
  // A gateway closes a connection left idle (docs/decisions/0023); a stream opened on it as it closes fails
  // before anything is sent, and is opened again on a fresh connection.
  const stream = await open().catch(async () => {
    await hangUpGateway(host, gateway)
    return open()
  })
  try {
    // libp2p's default read buffer is 4 MiB; a download may be larger.
    const lp = lpStream(stream, { maxDataLength: MAX_RESULT_BYTES, maxBufferSize: MAX_RESULT_BYTES + 16 })
    const { files, ...head } = req
    await answerChallenge(lp, RESULT_PROTOCOL, host, id, (auth) => ResultRequest.encode({ ...head, files: [], auth }).finish())
    const answer = async () => ResultResponse.decode((await lp.read({ signal: AbortSignal.timeout(120_000) })).subarray())
    let res = await answer()
    if (res.sendFiles) {
      await lp.write(ResultRequest.encode(ResultRequest.fromPartial({ files })).finish())
      res = await answer()
    }
    if (!res.ok) throw new Error(res.error || 'the gateway refused the request')
    return res
  } finally {
    await stream.close().catch(() => {})
  }
}

/** The task's node uploads a validated task's output; resolves with the result hash the gateway attests. */
export async function uploadResult(
  host: Libp2p,
  gateway: string,
  id: GatewayIdentity,
  taskIdCommitment: Uint8Array,
  files: Uint8Array[],
  salt: Uint8Array = new Uint8Array(),
): Promise<Uint8Array> {
  return (await resultExchange(host, gateway, id, { taskIdCommitment, files, download: false, replicate: false, salt })).resultHash
}

/** The task's creator downloads its output. Without a host, a temporary one is made and stopped. */
export async function downloadResult(
  gateway: string,
  id: GatewayIdentity,
  taskIdCommitment: Uint8Array,
  host?: Libp2p,
): Promise<{ files: Uint8Array[]; resultHash: Uint8Array }> {
  const h = host ?? (await createClientHost())
  try {
    const res = await resultExchange(h, gateway, id, { taskIdCommitment, files: [], download: true, replicate: false, salt: new Uint8Array() })
    return { files: res.files, resultHash: res.resultHash }
  } finally {
    if (!host) await h.stop()
  }
}

/**
 * Another validator's gateway pulls a stored output (authenticated with its validator's operator key): the files,
 * their result hash and, for a validated single task, the salt its upload carried. Answered before settlement.
 */
export async function replicateResult(
  host: Libp2p,
  gateway: string,
  id: GatewayIdentity,
  taskIdCommitment: Uint8Array,
): Promise<{ files: Uint8Array[]; resultHash: Uint8Array; salt: Uint8Array }> {
  const res = await resultExchange(host, gateway, id, { taskIdCommitment, files: [], download: false, replicate: true, salt: new Uint8Array() })
  return { files: res.files, resultHash: res.resultHash, salt: res.salt }
}

/**
 * Closes a host's connection to a gateway (named by its multiaddr's /p2p/ part). A gateway's connections are
 * a fixed budget shared with the workers' sessions: a client that keeps one open while it waits holds a slot
 * for nothing (docs/decisions/0023). Not connected, or no peer id in the address: nothing to do.
 */
export async function hangUpGateway(host: Libp2p, gateway: string): Promise<void> {
  try {
    const peer = /\/p2p\/([^/]+)/.exec(multiaddr(gateway).toString())?.[1]
    if (peer) await host.hangUp(peerIdFromString(peer))
  } catch {
    // already closed
  }
}
