import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml'

export const DEFAULT_HOME = path.join(os.homedir(), '.beryl')

export const DEFAULT_PORTS = { p2p: 26656, rpc: 26657, abci: 26658, grpc: 9090, api: 1317, gateway: 4001 } as const
export type Ports = { [K in keyof typeof DEFAULT_PORTS]: number }

/** The node's own settings (`<home>/config/app.toml`); CometBFT's stay in its config.toml. */
export interface AppConfig {
  'minimum-gas-prices': string
  abci: { address: string }
  cometbft: { rpc: string }
  /** The gRPC server (`host:port`; "" turns it off). */
  grpc: { address: string }
  /** The REST server, web explorer and /metrics (`tcp://host:port`; "" turns it off). */
  api: { address: string; 'enabled-unsafe-cors'?: boolean }
  gateway: GatewayConfig
}

export interface GatewayConfig {
  /** libp2p listen address; "" turns the gateway off. */
  address: string
  /** Key (in the home's keyring) of the validator's operator account, with which the gateway attests checked outputs; "" stores outputs without attesting. */
  'attester-key'?: string
  /** Keyring backend of the attester key ("file" reads BERYL_KEYRING_PASSPHRASE). */
  'keyring-backend'?: string
  /** Hours an output is kept for its creator to download. */
  'result-ttl-hours'?: number
  /** New connections accepted per second from one host (a devnet, whose workers share 127.0.0.1, raises it). */
  'connections-per-host-per-second'?: number
  /** The other validators' gateways (multiaddrs with /p2p/), from which this gateway replicates outputs. */
  peers?: string[]
}

export const homePaths = (home: string) => ({
  home,
  config: path.join(home, 'config'),
  appToml: path.join(home, 'config', 'app.toml'),
  configToml: path.join(home, 'config', 'config.toml'),
  genesis: path.join(home, 'config', 'genesis.json'),
  data: path.join(home, 'data'),
  appDb: path.join(home, 'data', 'application.db'),
  results: path.join(home, 'data', 'results'),
  gatewayKey: path.join(home, 'config', 'gateway_key.json'),
  /** The validator's ECVRF key for its vote extensions (the chain seed, docs/decisions/0022). */
  vrfKey: path.join(home, 'config', 'vrf_key.json'),
  logs: path.join(home, 'logs'),
  cometLog: path.join(home, 'logs', 'cometbft.log'),
})

/** `host` serves the local APIs; `publicHost` the gateway, which workers on other machines dial. */
export function defaultAppConfig(ports: Ports, host = '127.0.0.1', publicHost = '0.0.0.0'): AppConfig {
  return {
    'minimum-gas-prices': '0.025uberyl',
    abci: { address: `tcp://${host}:${ports.abci}` },
    cometbft: { rpc: `http://${host}:${ports.rpc}` },
    grpc: { address: `${host}:${ports.grpc}` },
    api: { address: `tcp://${host}:${ports.api}`, 'enabled-unsafe-cors': false },
    gateway: {
      address: `/ip4/${publicHost}/tcp/${ports.gateway}`,
      'attester-key': '',
      'keyring-backend': 'file',
      'result-ttl-hours': 24,
      'connections-per-host-per-second': 5,
    },
  }
}

/** The chain id in the home's genesis (known before the first block, unlike the committed state's). */
export function genesisChainId(home: string): string {
  return (JSON.parse(fs.readFileSync(homePaths(home).genesis, 'utf8')) as { chain_id: string }).chain_id
}

export function readAppConfig(home: string): AppConfig {
  const p = homePaths(home).appToml
  if (!fs.existsSync(p)) throw new Error(`no node configuration at ${p}; run \`beryld init <moniker> --home ${home}\` first`)
  const parsed = parseToml(fs.readFileSync(p, 'utf8')) as unknown as AppConfig
  return parsed
}

export function writeAppConfig(home: string, cfg: AppConfig): void {
  const header = "# Beryl node configuration (CometBFT's own settings are in config.toml).\n\n"
  fs.writeFileSync(homePaths(home).appToml, header + stringifyToml(cfg) + '\n')
}

/** host and port of `tcp://host:port` or `host:port`. */
export function parseHostPort(addr: string): { host: string; port: number } {
  const m = /^(?:tcp:\/\/|http:\/\/)?([^:/]+):(\d+)$/.exec(addr)
  if (!m) throw new Error(`invalid address ${JSON.stringify(addr)}; expected tcp://host:port`)
  return { host: m[1]!, port: Number(m[2]) }
}

/**
 * Sets `key = value` in a section of CometBFT's config.toml, keeping its comments and layout
 * (rewriting the whole file through a TOML library would drop the documentation in it).
 */
export function setTomlValue(text: string, section: string, key: string, value: string | number | boolean): string {
  const lines = text.split('\n')
  let current = ''
  const rendered = typeof value === 'string' ? JSON.stringify(value) : String(value)
  for (let i = 0; i < lines.length; i++) {
    const sec = /^\s*\[([^\]]+)\]\s*$/.exec(lines[i]!)
    if (sec) {
      current = sec[1]!
      continue
    }
    if (current === section && new RegExp(`^\\s*${key.replace(/[.]/g, '\\.')}\\s*=`).test(lines[i]!)) {
      lines[i] = `${key} = ${rendered}`
      return lines.join('\n')
    }
  }
  throw new Error(`config.toml has no key ${key} in section [${section || 'top level'}]`)
}

export function patchCometConfig(file: string, settings: Array<[section: string, key: string, value: string | number | boolean]>): void {
  let text = fs.readFileSync(file, 'utf8')
  for (const [s, k, v] of settings) text = setTomlValue(text, s, k, v)
  fs.writeFileSync(file, text)
}
