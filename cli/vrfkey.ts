import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { homePaths } from '../chain/node/config.ts'
import { ecvrfPublicKey } from '../modules/vss/index.ts'

/**
 * `<home>/config/vrf_key.json`: the validator's ECVRF key (RFC 9381 ECVRF-EDWARDS25519-SHA512-TAI). Its
 * public half is registered with the validator (gentx, create-validator); the node proves with the secret
 * half in every vote extension, and the chain seed is built from those proofs (docs/decisions/0022).
 */
export interface VrfKeyFile {
  type: 'ecvrf-edwards25519-sha512-tai'
  public_key: string
  secret_key: string
}

/** Creates the home's VRF key unless it exists (like CometBFT's priv_validator_key.json, never overwritten). */
export function ensureVrfKey(home: string): Uint8Array {
  const file = homePaths(home).vrfKey
  if (fs.existsSync(file)) return readVrfKey(home)!.publicKey
  const secret = randomBytes(32)
  const pub = ecvrfPublicKey(secret)
  const k: VrfKeyFile = { type: 'ecvrf-edwards25519-sha512-tai', public_key: Buffer.from(pub).toString('base64'), secret_key: secret.toString('base64') }
  fs.writeFileSync(file, JSON.stringify(k, null, 2) + '\n', { mode: 0o600 })
  return pub
}

/** The home's VRF key, or undefined when the home has none (a node made before vote extensions). */
export function readVrfKey(home: string): { publicKey: Uint8Array; secretKey: Uint8Array } | undefined {
  const file = homePaths(home).vrfKey
  if (!fs.existsSync(file)) return undefined
  let k: VrfKeyFile
  try {
    k = JSON.parse(fs.readFileSync(file, 'utf8')) as VrfKeyFile
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`)
  }
  const secretKey = Buffer.from(k.secret_key ?? '', 'base64')
  if (k.type !== 'ecvrf-edwards25519-sha512-tai' || secretKey.length !== 32)
    throw new Error(`${file}: expected an ecvrf-edwards25519-sha512-tai key with a 32-byte secret_key`)
  const publicKey = ecvrfPublicKey(secretKey)
  if (k.public_key && Buffer.from(k.public_key, 'base64').compare(Buffer.from(publicKey)) !== 0)
    throw new Error(`${file}: public_key does not match secret_key`)
  return { publicKey, secretKey }
}

/** The VRF public key a validator registers: the home's (created by `beryld init`). */
export function vrfPubkey(home: string): Uint8Array {
  const k = readVrfKey(home)
  if (!k) throw new Error(`no ${homePaths(home).vrfKey}; run \`beryld init\` (with --overwrite on an older home) to create it`)
  return k.publicKey
}
