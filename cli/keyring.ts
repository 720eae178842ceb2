import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { Bip39, EnglishMnemonic } from '@cosmjs/crypto'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { BECH32_PREFIX } from '../modules/index.ts'

export type KeyringBackend = 'file' | 'test'

/** One key: its address and public key in the clear, the mnemonic encrypted (file) or plain (test). */
interface KeyFile {
  name: string
  address: string
  pubkey: string
  created: string
  mnemonic?: string
  crypto?: { kdf: 'scrypt'; n: number; r: number; p: number; salt: string; iv: string; tag: string; ciphertext: string }
}

export interface KeyInfo {
  name: string
  address: string
  pubkey: string
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
const SCRYPT = { n: 1 << 15, r: 8, p: 1 }

/**
 * Keys under `<home>/keyring-<backend>/`. The `file` backend encrypts each mnemonic with a
 * passphrase (scrypt + AES-256-GCM); `test` stores it in the clear and is for devnets only.
 * Addresses derive from the mnemonic on HD path m/44'/118'/0'/0/0, as cosmjs wallets do.
 */
export class Keyring {
  readonly dir: string
  constructor(
    home: string,
    readonly backend: KeyringBackend,
    private readonly passphrase?: () => Promise<string>,
  ) {
    if (backend !== 'file' && backend !== 'test') throw new Error(`unknown keyring backend ${JSON.stringify(backend)}; use "file" or "test"`)
    this.dir = path.join(home, `keyring-${backend}`)
  }

  private file(name: string): string {
    if (!NAME_RE.test(name)) throw new Error(`invalid key name ${JSON.stringify(name)}: use letters, digits, "_", "." and "-" (at most 64)`)
    return path.join(this.dir, `${name}.json`)
  }

  static generateMnemonic(): string {
    return Bip39.encode(randomBytes(32)).toString()
  }

  static async walletFromMnemonic(mnemonic: string): Promise<DirectSecp256k1HdWallet> {
    try {
      new EnglishMnemonic(mnemonic.trim())
    } catch {
      throw new Error('invalid mnemonic: expected 12, 15, 18, 21 or 24 English BIP-39 words with a valid checksum')
    }
    return DirectSecp256k1HdWallet.fromMnemonic(mnemonic.trim(), { prefix: BECH32_PREFIX })
  }

  async add(name: string, mnemonic: string, overwrite = false): Promise<KeyInfo> {
    const f = this.file(name)
    if (fs.existsSync(f) && !overwrite) throw new Error(`a key named ${name} already exists in ${this.dir}`)
    const wallet = await Keyring.walletFromMnemonic(mnemonic)
    const [acc] = await wallet.getAccounts()
    for (const k of this.list()) {
      if (k.address === acc!.address && k.name !== name) throw new Error(`this mnemonic is already stored as key ${k.name}`)
    }
    const rec: KeyFile = { name, address: acc!.address, pubkey: Buffer.from(acc!.pubkey).toString('base64'), created: new Date().toISOString() }
    if (this.backend === 'test') {
      rec.mnemonic = mnemonic.trim()
    } else {
      const pass = await this.getPassphrase()
      const salt = randomBytes(16),
        iv = randomBytes(12)
      const key = scryptSync(pass, salt, 32, { N: SCRYPT.n, r: SCRYPT.r, p: SCRYPT.p, maxmem: 256 * 1024 * 1024 })
      const c = createCipheriv('aes-256-gcm', key, iv)
      const ciphertext = Buffer.concat([c.update(mnemonic.trim(), 'utf8'), c.final()])
      rec.crypto = {
        kdf: 'scrypt',
        ...SCRYPT,
        salt: salt.toString('hex'),
        iv: iv.toString('hex'),
        tag: c.getAuthTag().toString('hex'),
        ciphertext: ciphertext.toString('hex'),
      }
    }
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    fs.writeFileSync(f, JSON.stringify(rec, null, 2) + '\n', { mode: 0o600 })
    return { name, address: rec.address, pubkey: rec.pubkey }
  }

  list(): KeyInfo[] {
    if (!fs.existsSync(this.dir)) return []
    return fs
      .readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => {
        const r = JSON.parse(fs.readFileSync(path.join(this.dir, f), 'utf8')) as KeyFile
        return { name: r.name, address: r.address, pubkey: r.pubkey }
      })
  }

  private read(nameOrAddress: string): KeyFile {
    const byAddress = this.list().find((k) => k.address === nameOrAddress)
    const name = byAddress?.name ?? nameOrAddress
    const f = this.file(name)
    if (!fs.existsSync(f)) throw new Error(`no key named ${JSON.stringify(nameOrAddress)} in ${this.dir} (see \`beryld keys list\`)`)
    return JSON.parse(fs.readFileSync(f, 'utf8')) as KeyFile
  }

  show(nameOrAddress: string): KeyInfo {
    const r = this.read(nameOrAddress)
    return { name: r.name, address: r.address, pubkey: r.pubkey }
  }

  delete(name: string): void {
    const r = this.read(name)
    fs.rmSync(this.file(r.name))
  }

  async mnemonic(nameOrAddress: string): Promise<string> {
    const r = this.read(nameOrAddress)
    if (r.mnemonic) return r.mnemonic
    const c = r.crypto!
    const key = scryptSync(await this.getPassphrase(), Buffer.from(c.salt, 'hex'), 32, { N: c.n, r: c.r, p: c.p, maxmem: 256 * 1024 * 1024 })
    try {
      const d = createDecipheriv('aes-256-gcm', key, Buffer.from(c.iv, 'hex'))
      d.setAuthTag(Buffer.from(c.tag, 'hex'))
      return Buffer.concat([d.update(Buffer.from(c.ciphertext, 'hex')), d.final()]).toString('utf8')
    } catch {
      throw new Error(`wrong passphrase for key ${r.name}`)
    }
  }

  async wallet(nameOrAddress: string): Promise<DirectSecp256k1HdWallet> {
    return Keyring.walletFromMnemonic(await this.mnemonic(nameOrAddress))
  }

  private async getPassphrase(): Promise<string> {
    const env = process.env.BERYL_KEYRING_PASSPHRASE
    if (env) return env
    if (this.passphrase) return this.passphrase()
    throw new Error('the file keyring needs a passphrase: set BERYL_KEYRING_PASSPHRASE, or use --keyring-backend test on a devnet')
  }
}

/** Reads a line without echo from the terminal. */
export async function promptHidden(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new Error('no terminal to ask for the keyring passphrase: set BERYL_KEYRING_PASSPHRASE')
  process.stderr.write(question)
  const stdin = process.stdin
  stdin.setRawMode(true)
  stdin.resume()
  let s = ''
  return new Promise((resolve, reject) => {
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done()
          resolve(s)
          return
        }
        if (ch === '\u0003') {
          done()
          reject(new Error('cancelled'))
          return
        }
        if (ch === '\u007f') s = s.slice(0, -1)
        else s += ch
      }
    }
    const done = () => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
    }
    stdin.on('data', onData)
  })
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
