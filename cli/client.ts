import fs from 'node:fs'
import { GasPrice, SigningStargateClient, StargateClient, calculateFee, type StdFee } from '@cosmjs/stargate'
import { homePaths, readAppConfig } from '../chain/node/config.ts'
import { DENOM } from '../modules/index.ts'
import { Keyring, promptHidden, type KeyringBackend } from './keyring.ts'
import { berylRegistry } from '../sdk/registry.ts'
import { QueryClient, createProtobufRpcClient } from '@cosmjs/stargate'
import { Comet38Client } from '@cosmjs/tendermint-rpc'

/** Calls a module query by its gRPC service and method over ABCI query (what `beryld query <module>` uses). */
export async function moduleQuery(f: ClientFlags, service: string, method: string, request: Uint8Array): Promise<Uint8Array> {
  const url = nodeUrl(f)
  let comet: Comet38Client
  try {
    comet = await Comet38Client.connect(url)
  } catch (err) {
    throw new Error(`cannot reach a Beryl node at ${url} (${(err as Error).message}); is it running? (--node sets the address)`)
  }
  try {
    return await createProtobufRpcClient(QueryClient.withExtensions(comet)).request(service, method, request)
  } finally {
    comet.disconnect()
  }
}

/** Signs and broadcasts one message from a keyring key; prints the result; non-zero code → exit 1. */
export async function sendMsg(f: TxFlags, from: string, build: (address: string) => { typeUrl: string; value: unknown }): Promise<void> {
  const { client, address } = await signingClient(f, from)
  try {
    const res = await client.signAndBroadcast(address, [build(address)], feeArg(f), f.memo)
    const out = { txhash: res.transactionHash, height: res.height, code: res.code, gas_wanted: res.gasWanted, gas_used: res.gasUsed, raw_log: res.rawLog ?? '' }
    print(
      f,
      out,
      `txhash: ${out.txhash}\nheight: ${out.height}\ncode: ${out.code}${out.code ? `\nlog: ${out.raw_log}` : ''}\ngas: ${out.gas_used} used of ${out.gas_wanted}`,
    )
    if (res.code !== 0) process.exitCode = 1
  } finally {
    client.disconnect()
  }
}

export interface ClientFlags {
  home: string
  node?: string
  keyringBackend: KeyringBackend
  output: 'text' | 'json'
}

export interface TxFlags extends ClientFlags {
  fees?: string
  gas: string
  gasPrices: string
  gasAdjustment: string
  memo?: string
}

/** The CometBFT RPC to talk to: --node, else the home's own node, else the default port. */
export function nodeUrl(f: Pick<ClientFlags, 'home' | 'node'>): string {
  if (f.node) return f.node
  if (fs.existsSync(homePaths(f.home).appToml)) return readAppConfig(f.home).cometbft.rpc
  return 'http://127.0.0.1:26657'
}

export function keyring(f: Pick<ClientFlags, 'home' | 'keyringBackend'>): Keyring {
  return new Keyring(f.home, f.keyringBackend, () => promptHidden('Keyring passphrase: '))
}

export async function queryClient(f: ClientFlags): Promise<StargateClient> {
  const url = nodeUrl(f)
  try {
    return await StargateClient.connect(url)
  } catch (err) {
    throw new Error(`cannot reach a Beryl node at ${url} (${(err as Error).message}); is it running? (--node sets the address)`)
  }
}

export async function signingClient(f: TxFlags, from: string): Promise<{ client: SigningStargateClient; address: string }> {
  const wallet = await keyring(f).wallet(from)
  const [acc] = await wallet.getAccounts()
  const url = nodeUrl(f)
  try {
    const client = await SigningStargateClient.connectWithSigner(url, wallet, { gasPrice: GasPrice.fromString(f.gasPrices), registry: berylRegistry() })
    return { client, address: acc!.address }
  } catch (err) {
    throw new Error(`cannot reach a Beryl node at ${url} (${(err as Error).message}); is it running? (--node sets the address)`)
  }
}

/** The fee argument for cosmjs: explicit --fees, a fixed --gas, or "auto" (simulate × adjustment). */
export function feeArg(f: TxFlags): StdFee | number | 'auto' {
  if (f.fees) {
    const m = /^(\d+)([a-z]+)$/.exec(f.fees)
    if (!m) throw new Error(`invalid --fees ${JSON.stringify(f.fees)}; expected e.g. 5000${DENOM}`)
    const gas = f.gas === 'auto' ? '200000' : f.gas
    return { amount: [{ denom: m[2]!, amount: m[1]! }], gas }
  }
  if (f.gas === 'auto') {
    const adj = Number(f.gasAdjustment)
    if (!(adj >= 1 && adj <= 10)) throw new Error('--gas-adjustment must be between 1 and 10')
    return adj
  }
  if (!/^\d+$/.test(f.gas)) throw new Error(`invalid --gas ${JSON.stringify(f.gas)}; expected "auto" or a number`)
  return calculateFee(Number(f.gas), GasPrice.fromString(f.gasPrices))
}

export function print(f: Pick<ClientFlags, 'output'>, json: unknown, text: string): void {
  if (f.output === 'json')
    console.log(JSON.stringify(json, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v), 2))
  else console.log(text)
}
