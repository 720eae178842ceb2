import fs from 'node:fs'
import { cometbftInit } from '../chain/node/cometbft.ts'
import { DEFAULT_PORTS, defaultAppConfig, homePaths, patchCometConfig, writeAppConfig, type Ports } from '../chain/node/config.ts'
import { checkAddress } from '../chain/tx/decode.ts'
import { BECH32_PREFIX, DENOM } from '../modules/index.ts'
import { ensureVrfKey } from './vrfkey.ts'

export interface InitOptions {
  home: string
  moniker: string
  chainId: string
  ports?: Partial<Ports>
  /** Address CometBFT's P2P listens on (0.0.0.0 to accept peers; 127.0.0.1 for local tests). */
  p2pHost?: string
  /** Address CometBFT's RPC listens on (default 127.0.0.1; 0.0.0.0 in a container other services reach). */
  rpcHost?: string
  timeoutCommit?: string
  overwrite?: boolean
  minGasPrice?: string
  /** The gateway's attester key name and its keyring backend ([gateway] in app.toml). */
  attesterKey?: string
  gatewayKeyringBackend?: 'file' | 'test'
}

export interface Genesis {
  genesis_time: string
  chain_id: string
  initial_height: string
  consensus_params: { block: { max_bytes: string; max_gas: string }; [k: string]: unknown }
  validators: unknown[]
  app_hash: string
  app_state: {
    auth: { params?: Record<string, string>; accounts: Array<{ address: string }> }
    bank: { balances: Array<{ address: string; coins: Array<{ denom: string; amount: string }> }> }
    [module: string]: unknown
  }
}

/**
 * Creates a node home: CometBFT's keys and config (through `cometbft init`, then adjusted), the
 * validator's VRF key (config/vrf_key.json), the genesis with Beryl's app_state, and app.toml.
 */
export function initHome(o: InitOptions): { nodeId?: string; genesis: string } {
  const p = homePaths(o.home)
  if (fs.existsSync(p.genesis) && !o.overwrite) {
    throw new Error(`${p.genesis} already exists; use --overwrite to replace the configuration (keys and data are kept)`)
  }
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,48}$/.test(o.chainId)) throw new Error(`invalid chain id ${JSON.stringify(o.chainId)}`)
  if (o.overwrite && fs.existsSync(p.genesis)) fs.rmSync(p.genesis)
  cometbftInit(o.home)
  ensureVrfKey(o.home)
  const ports: Ports = { ...DEFAULT_PORTS, ...o.ports }
  patchCometConfig(p.configToml, [
    ['', 'moniker', o.moniker],
    ['', 'proxy_app', `tcp://127.0.0.1:${ports.abci}`],
    ['rpc', 'laddr', `tcp://${o.rpcHost ?? '127.0.0.1'}:${ports.rpc}`],
    ['p2p', 'laddr', `tcp://${o.p2pHost ?? '0.0.0.0'}:${ports.p2p}`],
    ['p2p', 'allow_duplicate_ip', true],
    ['p2p', 'addr_book_strict', false],
    ['consensus', 'timeout_commit', o.timeoutCommit ?? '1s'],
    ['mempool', 'size', 20000],
    ['rpc', 'max_body_bytes', 10_000_000],
    ['instrumentation', 'prometheus', false],
  ])
  const g = JSON.parse(fs.readFileSync(p.genesis, 'utf8')) as Genesis
  g.chain_id = o.chainId
  // A bank send needs ~70k gas: 100M gas per block admits over a thousand sends.
  g.consensus_params.block.max_gas = '100000000'
  g.app_state = { auth: { accounts: [] }, bank: { balances: [] } }
  fs.writeFileSync(p.genesis, JSON.stringify(g, null, 2) + '\n')
  const cfg = defaultAppConfig(ports, '127.0.0.1', o.p2pHost ?? '0.0.0.0')
  if (o.minGasPrice !== undefined) cfg['minimum-gas-prices'] = o.minGasPrice
  if (o.attesterKey) cfg.gateway['attester-key'] = o.attesterKey
  if (o.gatewayKeyringBackend) cfg.gateway['keyring-backend'] = o.gatewayKeyringBackend
  writeAppConfig(o.home, cfg)
  return { genesis: p.genesis }
}

const COIN_RE = /^(\d+(?:\.\d+)?)([a-zA-Z][a-zA-Z0-9/:._-]{2,127})$/

/** "10beryl" → 10000000uberyl; "500uberyl,3foo" → two coins. */
export function parseCoins(s: string): Array<{ denom: string; amount: string }> {
  return s
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const m = COIN_RE.exec(part)
      if (!m) throw new Error(`invalid coin ${JSON.stringify(part)}: expected <amount><denom>, e.g. 1000uberyl or 2.5beryl`)
      let [, amount, denom] = m as unknown as [string, string, string]
      if (denom.toLowerCase() === 'beryl') {
        const [w, f = ''] = amount.split('.')
        if (f.length > 6) throw new Error(`${part}: BERYL has 6 decimals`)
        amount = (BigInt(w!) * 1_000_000n + BigInt(f.padEnd(6, '0') || '0')).toString()
        denom = DENOM
      } else if (amount.includes('.')) {
        throw new Error(`${part}: amounts of ${denom} must be whole numbers`)
      }
      if (BigInt(amount) <= 0n) throw new Error(`${part}: amount must be positive`)
      return { denom, amount }
    })
}

/** Adds a funded account to the genesis file (merging coins if the account is already there). */
export function addGenesisAccount(home: string, address: string, coins: Array<{ denom: string; amount: string }>): void {
  checkAddress(address, BECH32_PREFIX)
  const file = homePaths(home).genesis
  if (!fs.existsSync(file)) throw new Error(`no genesis at ${file}; run \`beryld init\` first`)
  const g = JSON.parse(fs.readFileSync(file, 'utf8')) as Genesis
  g.app_state.auth ??= { accounts: [] }
  g.app_state.bank ??= { balances: [] }
  if (!g.app_state.auth.accounts.some((a) => a.address === address)) g.app_state.auth.accounts.push({ address })
  let entry = g.app_state.bank.balances.find((b) => b.address === address)
  if (!entry) {
    entry = { address, coins: [] }
    g.app_state.bank.balances.push(entry)
  }
  for (const c of coins) {
    const have = entry.coins.find((x) => x.denom === c.denom)
    if (have) have.amount = (BigInt(have.amount) + BigInt(c.amount)).toString()
    else entry.coins.push({ ...c })
  }
  entry.coins.sort((a, b) => (a.denom < b.denom ? -1 : 1))
  fs.writeFileSync(file, JSON.stringify(g, null, 2) + '\n')
}
