import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { cometPids, cometbftShowNodeId } from '../chain/node/cometbft.ts'
import { DEFAULT_PORTS, homePaths, patchCometConfig, readAppConfig, type Ports } from '../chain/node/config.ts'
import { DEVNET_FUNDS, createDevnetHome, pickPorts, type DevnetAccount } from './devnet.ts'
import { gatewayAddress } from './gateway.ts'
import { collectGenTxs, validateGenesis, writeGenTx } from './gentx.ts'
import { addGenesisAccount, initHome } from './init.ts'
import { Keyring } from './keyring.ts'

const BERYLD = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'beryld')

export interface NetworkValidator {
  index: number
  moniker: string
  home: string
  ports: Ports
  rpc: string
  /** The validator's operator account (key "validator" in its home's test keyring). */
  account: string
  /** The gateway's dialable multiaddr. */
  gateway: string
}

export interface ValidatorNetwork {
  root: string
  chainId: string
  validators: NetworkValidator[]
  /** Funded test-keyring accounts, in validator 0's home. */
  accounts: DevnetAccount[]
}

export interface NetworkOptions {
  validators: number
  accounts: number
  chainId: string
  randomPorts?: boolean
  /** Self-bond of each genesis validator (uberyl), default 10 000 BERYL. */
  selfBond?: bigint
  timeoutCommit?: string
  /** Edits genesis app_state before the ceremony (params of the validator module, …). */
  genesis?: (appState: Record<string, any>) => void
}

const validatorHome = (root: string, i: number) => path.join(root, `validator-${i}`)
const FUNDS = DEVNET_FUNDS.replace('uberyl', '')

/** Standard ports for validator i: the defaults shifted by 10·i, so several run on one machine. */
function portsFor(i: number): Ports {
  return Object.fromEntries(Object.entries(DEFAULT_PORTS).map(([k, v]) => [k, v + 10 * i])) as unknown as Ports
}

const readJson = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8'))
const writeJson = (f: string, v: unknown) => fs.writeFileSync(f, JSON.stringify(v, null, 2) + '\n')

/**
 * A multi-validator network from a genesis ceremony, as operators run it: validator 0's home is the
 * coordinator (accounts, every validator's operator and attester key funded, every attester listed);
 * each validator signs a gentx with its own consensus key; the coordinator collects them; every home
 * gets the same genesis and the others as persistent peers.
 */
export async function createValidatorNetwork(root: string, o: NetworkOptions): Promise<ValidatorNetwork> {
  if (o.validators < 1 || o.validators > 7) throw new Error('--validators must be 1..7')
  fs.mkdirSync(root, { recursive: true })
  const validators: NetworkValidator[] = []
  const attesters: string[] = []
  let accounts: DevnetAccount[] = []
  for (let i = 0; i < o.validators; i++) {
    const home = validatorHome(root, i)
    const ports = o.randomPorts ? await pickPorts(true) : portsFor(i)
    const made = await createDevnetHome(home, { accounts: i === 0 ? o.accounts : 0, chainId: o.chainId, ports })
    if (i === 0) accounts = made
    if (o.timeoutCommit) patchCometConfig(homePaths(home).configToml, [['consensus', 'timeout_commit', o.timeoutCommit]])
    patchCometConfig(homePaths(home).configToml, [['', 'moniker', `validator-${i}`]])
    const kr = new Keyring(home, 'test')
    const op = await kr.add('validator', Keyring.generateMnemonic())
    attesters.push(kr.show('attester').address)
    validators.push({ index: i, moniker: `validator-${i}`, home, ports, rpc: readAppConfig(home).cometbft.rpc, account: op.address, gateway: (await gatewayAddress(home))! })
  }
  const coordinator = validators[0]!.home
  for (const v of validators) {
    addGenesisAccount(coordinator, v.account, [{ denom: 'uberyl', amount: FUNDS }])
    if (v.index > 0) addGenesisAccount(coordinator, attesters[v.index]!, [{ denom: 'uberyl', amount: FUNDS }])
  }
  const genesisFile = homePaths(coordinator).genesis
  const g = readJson(genesisFile)
  g.app_state.task = { ...g.app_state.task, params: { ...g.app_state.task?.params, attesters } }
  o.genesis?.(g.app_state)
  writeJson(genesisFile, g)
  // The ceremony: each validator signs a gentx against the coordinator's genesis…
  const gentxDir = path.join(root, 'gentx')
  fs.mkdirSync(gentxDir, { recursive: true })
  for (const v of validators) {
    fs.copyFileSync(genesisFile, homePaths(v.home).genesis)
    const signer = await new Keyring(v.home, 'test').wallet('validator')
    const { file } = await writeGenTx(v.home, signer, { moniker: v.moniker, amount: o.selfBond ?? 10_000_000_000n, host: '127.0.0.1', p2pPort: v.ports.p2p })
    fs.copyFileSync(file, path.join(gentxDir, path.basename(file)))
  }
  // …the coordinator collects them, and every validator starts from that same genesis.
  collectGenTxs(coordinator, gentxDir)
  await validateGenesis(genesisFile)
  for (const v of validators.slice(1)) {
    fs.copyFileSync(genesisFile, homePaths(v.home).genesis)
    collectGenTxs(v.home, gentxDir) // the same gen_txs again; sets this home's persistent peers
  }
  return { root, chainId: o.chainId, validators, accounts }
}

/** A full node for an existing network: `init`, the network's genesis, its validators as peers. */
export async function createFullNode(root: string, name: string, net: ValidatorNetwork, o: { timeoutCommit?: string } = {}): Promise<{ home: string; ports: Ports; rpc: string }> {
  const home = path.join(root, name)
  const ports = await pickPorts(true)
  initHome({ home, moniker: name, chainId: net.chainId, ports, p2pHost: '127.0.0.1', timeoutCommit: o.timeoutCommit ?? '500ms' })
  fs.copyFileSync(homePaths(net.validators[0]!.home).genesis, homePaths(home).genesis)
  const peers = net.validators.map((v) => `${readNodeId(v.home)}@127.0.0.1:${v.ports.p2p}`)
  patchCometConfig(homePaths(home).configToml, [['p2p', 'persistent_peers', peers.join(',')]])
  const cfg = readAppConfig(home)
  return { home, ports, rpc: cfg.cometbft.rpc }
}

/** The CometBFT node id of a home. */
export const readNodeId = (home: string): string => cometbftShowNodeId(home)

/** A `beryld start` child process of one home, its output appended to `<home>/logs/beryld.log`. */
export class NodeProcess {
  child?: ChildProcess
  constructor(readonly home: string) {}

  get running(): boolean { return !!this.child && this.child.exitCode === null && this.child.signalCode === null }

  start(env: Record<string, string> = {}): void {
    fs.mkdirSync(homePaths(this.home).logs, { recursive: true })
    const log = fs.openSync(path.join(homePaths(this.home).logs, 'beryld.log'), 'a')
    this.child = spawn(BERYLD, ['start', '--home', this.home], { stdio: ['ignore', log, log], env: { ...process.env, ...env } })
    fs.closeSync(log)
  }

  /** SIGTERM, a clean stop of the app and CometBFT. */
  async stop(): Promise<void> {
    if (!this.running) return
    const done = new Promise<void>((r) => this.child!.once('exit', () => r()))
    this.child!.kill('SIGTERM')
    await done
    await waitForCometExit(this.home)
  }

  /** SIGKILL of beryld; its CometBFT child stops by itself when the ABCI connection drops. */
  async kill(): Promise<void> {
    if (!this.running) return
    const done = new Promise<void>((r) => this.child!.once('exit', () => r()))
    this.child!.kill('SIGKILL')
    await done
    await waitForCometExit(this.home)
  }

  /** SIGSTOP / SIGCONT of beryld and its CometBFT: the node freezes as a whole. */
  pause(): void { this.signalAll('SIGSTOP') }
  resume(): void { this.signalAll('SIGCONT') }
  private signalAll(sig: NodeJS.Signals): void {
    if (!this.running) return
    for (const pid of [this.child!.pid!, ...cometPids(this.home)]) { try { process.kill(pid, sig) } catch { /* gone */ } }
  }
}

export async function waitForCometExit(home: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (!cometPids(home).length) return
    await new Promise((r) => setTimeout(r, 100))
  }
  for (const pid of cometPids(home)) { try { process.kill(pid, 'SIGKILL') } catch { /* gone */ } }
}

/** Every funded devnet account's key lives in validator 0's home. */
export const networkKeyHome = (net: ValidatorNetwork) => net.validators[0]!.home
