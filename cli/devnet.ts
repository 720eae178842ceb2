import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { homePaths, readAppConfig, writeAppConfig, DEFAULT_PORTS, type Ports } from '../chain/node/config.ts'
import { Keyring } from './keyring.ts'
import { addGenesisAccount, initHome } from './init.ts'
import { runUntilSignal, startBerylNode } from './node.ts'

export interface DevnetOptions {
  home?: string
  reset?: boolean
  accounts: number
  randomPorts?: boolean
  chainId: string
  output: 'text' | 'json'
}

export const DEVNET_FUNDS = '1000000000000uberyl' // 1 000 000 BERYL per account

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)) })
  })
}

export async function pickPorts(random: boolean): Promise<Ports> {
  if (!random) return { ...DEFAULT_PORTS }
  return { p2p: await freePort(), rpc: await freePort(), abci: await freePort(), grpc: await freePort(), api: await freePort(), gateway: await freePort() }
}

export interface DevnetAccount { name: string; address: string; mnemonic: string }

/**
 * Creates a single-validator devnet home with funded test-keyring accounts, and an `attester` key
 * (funded, listed in the task module's attesters) that the gateway uses to attest checked outputs.
 */
export async function createDevnetHome(home: string, o: { accounts: number; chainId: string; ports: Ports }): Promise<DevnetAccount[]> {
  initHome({ home, moniker: 'devnet-validator', chainId: o.chainId, ports: o.ports, p2pHost: '127.0.0.1', timeoutCommit: '500ms' })
  const kr = new Keyring(home, 'test')
  const attester = await kr.add('attester', Keyring.generateMnemonic())
  addGenesisAccount(home, attester.address, [{ denom: 'uberyl', amount: DEVNET_FUNDS.replace('uberyl', '') }])
  const genesisFile = homePaths(home).genesis
  const g = JSON.parse(fs.readFileSync(genesisFile, 'utf8'))
  g.app_state.task = { params: { attesters: [attester.address] } }
  fs.writeFileSync(genesisFile, JSON.stringify(g, null, 2) + '\n')
  const cfg = readAppConfig(home)
  writeAppConfig(home, { ...cfg, gateway: { ...cfg.gateway, 'attester-key': 'attester', 'keyring-backend': 'test' } })
  const accounts: DevnetAccount[] = []
  for (let i = 0; i < o.accounts; i++) {
    const mnemonic = Keyring.generateMnemonic()
    const info = await kr.add(`account${i + 1}`, mnemonic)
    addGenesisAccount(home, info.address, [{ denom: 'uberyl', amount: DEVNET_FUNDS.replace('uberyl', '') }])
    accounts.push({ name: info.name, address: info.address, mnemonic })
  }
  return accounts
}

export async function runDevnet(o: DevnetOptions): Promise<never> {
  const home = o.home ?? fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-devnet-'))
  if (o.reset && fs.existsSync(home)) fs.rmSync(home, { recursive: true, force: true })
  const fresh = !fs.existsSync(homePaths(home).genesis)
  let accounts: DevnetAccount[] = []
  if (fresh) {
    const ports = await pickPorts(!!o.randomPorts)
    accounts = await createDevnetHome(home, { accounts: o.accounts, chainId: o.chainId, ports })
  } else {
    console.log(`Reusing the devnet in ${home} (--reset starts a new one).`)
  }
  const cfg = readAppConfig(home)
  const node = await startBerylNode(home, { log: (m) => { if (!m.startsWith('abci:')) console.log(m) } })
  await waitForHeight(cfg.cometbft.rpc, 1n, node.done)
  const kr = new Keyring(home, 'test')
  const keys = kr.list()
  if (o.output === 'json') {
    console.log(JSON.stringify({ home, chain_id: o.chainId, rpc: cfg.cometbft.rpc, accounts: fresh ? accounts : keys }, null, 2))
  } else {
    console.log(`
Beryl devnet is running (chain ${o.chainId}). Press Ctrl-C to stop.

  home          ${home}
  CometBFT RPC  ${cfg.cometbft.rpc}
  ABCI          ${cfg.abci.address}

Funded accounts (test keyring in the home; 1 000 000 BERYL each):`)
    for (const a of fresh ? accounts : keys.map((k) => ({ ...k, mnemonic: '(stored in the keyring)' }))) {
      console.log(`  ${a.name}  ${a.address}\n    mnemonic: ${a.mnemonic}`)
    }
    const first = keys[0]?.address ?? ''
    const second = keys[1]?.address ?? first
    console.log(`
Try:
  ./bin/beryld query bank balances ${first} --home ${home}
  ./bin/beryld tx bank send account1 ${second} 1000uberyl --home ${home} --keyring-backend test
  ./bin/beryld status --home ${home}
`)
  }
  return runUntilSignal(node, console.log)
}

/** Polls CometBFT's /status until the chain reaches `height` (or the node stops). */
export async function waitForHeight(rpc: string, height: bigint, stopped?: Promise<string>): Promise<void> {
  let failed: string | undefined
  void stopped?.then((r) => { failed = r })
  for (;;) {
    if (failed) throw new Error(`the node stopped before producing blocks: ${failed}`)
    try {
      const res = await fetch(`${rpc}/status`, { signal: AbortSignal.timeout(2000) })
      const body = (await res.json()) as { result: { sync_info: { latest_block_height: string } } }
      if (BigInt(body.result.sync_info.latest_block_height) >= height) return
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200))
  }
}
