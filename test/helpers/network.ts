import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { SigningStargateClient, type StdFee } from '@cosmjs/stargate'
import { homePaths } from '../../chain/node/config.ts'
import { waitForHeight } from '../../cli/devnet.ts'
import { Keyring } from '../../cli/keyring.ts'
import { NodeProcess, createValidatorNetwork, type NetworkOptions, type ValidatorNetwork } from '../../cli/network.ts'
import { berylRegistry } from '../../sdk/index.ts'
import { waitFor } from './node.ts'

/** Validator params that make liveness, jail and unbonding observable within a test. */
export const FAST_VALIDATOR_PARAMS = {
  min_self_bond: '1000000000',
  unbonding_period: '8',
  signed_blocks_window: '20',
  max_missed_ppm: '500000',
  downtime_jail_seconds: '8',
  downtime_slash_ppm: '10000',
  double_sign_slash_ppm: '50000',
  max_validators: 10,
}

export interface TestNetwork extends ValidatorNetwork {
  procs: NodeProcess[]
  /** Extra processes started by a test (a joining validator, a double signer), stopped by `cleanup`. */
  extra: NodeProcess[]
  wallet(home: string, key: string): Promise<DirectSecp256k1HdWallet>
  client(home: string, key: string, rpc?: string): Promise<{ client: SigningStargateClient; address: string }>
  cleanup(): Promise<void>
}

/** A real N-validator network (gentx ceremony, N `beryld start` processes on loopback), running. */
export async function startTestNetwork(o: Partial<NetworkOptions> & { validators: number }): Promise<TestNetwork> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-net-'))
  const net = await createValidatorNetwork(root, {
    accounts: 3,
    chainId: 'beryl-net-1',
    randomPorts: true,
    timeoutCommit: '400ms',
    ...o,
    genesis: (s) => {
      s.validator = { params: FAST_VALIDATOR_PARAMS }
      o.genesis?.(s)
    },
  })
  const procs = net.validators.map((v) => new NodeProcess(v.home))
  for (const p of procs) p.start()
  const extra: NodeProcess[] = []
  const clients: SigningStargateClient[] = []
  const t: TestNetwork = {
    ...net,
    procs,
    extra,
    wallet: (home, key) => new Keyring(home, 'test').wallet(key),
    async client(home, key, rpc = net.validators[0]!.rpc) {
      const w = await t.wallet(home, key)
      const client = await SigningStargateClient.connectWithSigner(rpc, w, { registry: berylRegistry(), broadcastPollIntervalMs: 200 })
      clients.push(client)
      return { client, address: (await w.getAccounts())[0]!.address }
    },
    async cleanup() {
      for (const c of clients) c.disconnect()
      await Promise.all([...procs, ...extra].map((p) => p.stop().catch(() => p.kill())))
      fs.rmSync(root, { recursive: true, force: true })
    },
  }
  try {
    await Promise.all(net.validators.map((v, i) => waitForHeight(v.rpc, 2n, procs[i]!.exited())))
  } catch (err) {
    const logs = net.validators.map((v) => {
      try {
        return fs.readFileSync(path.join(homePaths(v.home).logs, 'beryld.log'), 'utf8').slice(-2000)
      } catch {
        return ''
      }
    })
    await t.cleanup()
    throw new Error(`${(err as Error).message}\n${logs.join('\n----\n')}`)
  }
  return t
}

export async function rpcGet(rpc: string, pathAndQuery: string): Promise<any> {
  const r = (await (await fetch(`${rpc}/${pathAndQuery}`, { signal: AbortSignal.timeout(5000) })).json()) as { result?: unknown; error?: unknown }
  if (!r.result) throw new Error(`${pathAndQuery}: ${JSON.stringify(r.error)}`)
  return r.result
}

export const heightOf = async (rpc: string): Promise<bigint> => BigInt((await rpcGet(rpc, 'status')).sync_info.latest_block_height)

/** CometBFT's current validator set: address → voting power. */
export async function cometValidators(rpc: string): Promise<Map<string, bigint>> {
  const r = await rpcGet(rpc, 'validators?per_page=100')
  return new Map((r.validators as Array<{ address: string; voting_power: string }>).map((v) => [v.address, BigInt(v.voting_power)]))
}

export const waitForSetSize = (rpc: string, n: number, timeoutMs = 60_000) =>
  waitFor(`a validator set of ${n}`, async () => ((await cometValidators(rpc)).size === n ? true : undefined), timeoutMs)

/**
 * The app hash each node's own application returned in FinalizeBlock at every height from 1 to
 * `upTo` (block_results), for comparing nodes: a node whose app diverged would show another hash.
 */
export async function appHashes(rpc: string, upTo: bigint, from = 1n): Promise<string[]> {
  const out: string[] = []
  for (let h = from; h <= upTo; h++) out.push((await rpcGet(rpc, `block_results?height=${h}`)).app_hash as string)
  return out
}

export const fee = (amount: number, gas = 200_000): StdFee => ({ amount: [{ denom: 'uberyl', amount: String(amount) }], gas: String(gas) })
