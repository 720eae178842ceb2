// The gateway's libp2p identity, kept in the node home so that its peer id (in workers' and apps'
// configs) survives restarts.
import fs from 'node:fs'
import path from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { homePaths, readAppConfig } from '../chain/node/config.ts'

/** The gateway's libp2p key from its file, created on first use. */
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
