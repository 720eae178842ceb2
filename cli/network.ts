import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { cometPids, cometbftShowNodeId } from '../chain/node/cometbft.ts'
import { DEFAULT_PORTS, genesisChainId, homePaths, patchCometConfig, readAppConfig, writeAppConfig, type Ports } from '../chain/node/config.ts'
import type { WorkerDaemon } from '../worker/daemon/daemon.ts'
import {
  DEVNET_FUNDS,
  createDevnetHome,
  createDevnetWorkers,
  pickPorts,
  runDemo,
  startDevnetWorkers,
  waitForHeight,
  type DevnetAccount,
  type DevnetOptions,
} from './devnet.ts'
import { collectGenTxs, validateGenesis, writeGenTx } from './gentx.ts'
import { addGenesisAccount, initHome } from './init.ts'
import { Keyring } from './keyring.ts'

/** A validator home's gateway multiaddr (libp2p's key code loads only when a network is built). */
const gatewayAddressOf = async (home: string) => (await import('../gateway/key.ts')).gatewayAddress(home)

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
  /** Runs on the coordinator's home before the ceremony (to fund more accounts in its genesis). */
  beforeCeremony?: (coordinatorHome: string) => Promise<void>
  /** Consensus param abci.vote_extensions_enable_height (default 1: the chain seed from validators' VRFs; 0 = off). */
  voteExtensionsEnableHeight?: bigint
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
 * coordinator (accounts and every validator's operator key funded); each validator signs a gentx with its
 * own consensus key; the coordinator collects them; every home gets the same genesis and the others as
 * persistent peers. Each gateway attests with its validator's operator key (docs/decisions/0023).
 */
export async function createValidatorNetwork(root: string, o: NetworkOptions): Promise<ValidatorNetwork> {
  if (o.validators < 1 || o.validators > 7) throw new Error('--validators must be 1..7')
  fs.mkdirSync(root, { recursive: true })
  const validators: NetworkValidator[] = []
  let accounts: DevnetAccount[] = []
  for (let i = 0; i < o.validators; i++) {
    const home = validatorHome(root, i)
    const ports = o.randomPorts ? await pickPorts(true) : portsFor(i)
    const made = await createDevnetHome(home, { accounts: i === 0 ? o.accounts : 0, chainId: o.chainId, ports, ceremony: false })
    if (i === 0) accounts = made
    if (o.timeoutCommit) patchCometConfig(homePaths(home).configToml, [['consensus', 'timeout_commit', o.timeoutCommit]])
    patchCometConfig(homePaths(home).configToml, [['', 'moniker', `validator-${i}`]])
    const kr = new Keyring(home, 'test')
    const op = kr.show('validator')
    validators.push({
      index: i,
      moniker: `validator-${i}`,
      home,
      ports,
      rpc: readAppConfig(home).cometbft.rpc,
      account: op.address,
      gateway: (await gatewayAddressOf(home))!,
    })
  }
  // Each gateway replicates outputs from the others ([gateway] peers, docs/decisions/0023).
  for (const v of validators) {
    const cfg = readAppConfig(v.home)
    writeAppConfig(v.home, { ...cfg, gateway: { ...cfg.gateway, peers: validators.filter((x) => x !== v).map((x) => x.gateway) } })
  }
  const coordinator = validators[0]!.home
  for (const v of validators) addGenesisAccount(coordinator, v.account, [{ denom: 'uberyl', amount: FUNDS }])
  await o.beforeCeremony?.(coordinator)
  const genesisFile = homePaths(coordinator).genesis
  const g = readJson(genesisFile)
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
  collectGenTxs(coordinator, gentxDir, { voteExtensionsEnableHeight: o.voteExtensionsEnableHeight })
  await validateGenesis(genesisFile)
  for (const v of validators.slice(1)) {
    fs.copyFileSync(genesisFile, homePaths(v.home).genesis)
    collectGenTxs(v.home, gentxDir, { voteExtensionsEnableHeight: o.voteExtensionsEnableHeight }) // the same gen_txs again; sets this home's persistent peers
  }
  return { root, chainId: o.chainId, validators, accounts }
}

/** A full node for an existing network: `init`, the network's genesis, its validators as peers. */
export async function createFullNode(
  root: string,
  name: string,
  net: ValidatorNetwork,
  o: { timeoutCommit?: string } = {},
): Promise<{ home: string; ports: Ports; rpc: string }> {
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

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null
  }

  /** Resolves when the current process exits, with how it ended. */
  exited(): Promise<string> {
    const c = this.child
    if (!c) return new Promise(() => {})
    if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(`exited (${c.signalCode ?? c.exitCode})`)
    return new Promise((r) => c.once('exit', (code, sig) => r(`exited (${sig ?? code}); ${this.logTail()}`)))
  }

  /** The last lines of the node's log, for an error message (CI keeps no files). */
  logTail(lines = 12): string {
    const file = path.join(homePaths(this.home).logs, 'beryld.log')
    try {
      const tail = fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines)
      return `the last lines of ${file}:\n  ${tail.join('\n  ')}`
    } catch {
      return `see ${file}`
    }
  }

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
  pause(): void {
    this.signalAll('SIGSTOP')
  }
  resume(): void {
    this.signalAll('SIGCONT')
  }
  private signalAll(sig: NodeJS.Signals): void {
    if (!this.running) return
    for (const pid of [this.child!.pid!, ...cometPids(this.home)]) {
      try {
        process.kill(pid, sig)
      } catch {
        /* gone */
      }
    }
  }
}

export async function waitForCometExit(home: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (!cometPids(home).length) return
    await new Promise((r) => setTimeout(r, 100))
  }
  for (const pid of cometPids(home)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      /* gone */
    }
  }
}

/** Every funded devnet account's key lives in validator 0's home. */
export const networkKeyHome = (net: ValidatorNetwork) => net.validators[0]!.home

/**
 * `beryld devnet --validators N` (N > 1): N validator processes from a gentx ceremony, each with its
 * own home, ports, gateway and CometBFT; the workers (in this process) spread over the gateways and
 * RPCs; every endpoint printed. Reuses `--home` if it holds a network.
 */
export async function runNetworkDevnet(o: DevnetOptions): Promise<never> {
  const root = path.resolve(o.home ?? fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-devnet-')))
  if (o.reset && fs.existsSync(root)) fs.rmSync(root, { recursive: true, force: true })
  const say = (m: string) => {
    if (o.output !== 'json') console.log(m)
  }
  const coordinator = validatorHome(root, 0)
  let net: ValidatorNetwork
  const fresh = !fs.existsSync(homePaths(coordinator).genesis)
  if (fresh) {
    net = await createValidatorNetwork(root, {
      validators: o.validators,
      accounts: o.accounts,
      chainId: o.chainId,
      randomPorts: o.randomPorts,
      timeoutCommit: '500ms',
      beforeCeremony: async (home) => {
        await createDevnetWorkers(home, o.workers)
      },
      genesis: (s) => {
        if (o.sampleAll) s.vss = { params: { ...s.vss?.params, min_sampling_rate: '1000000000000000000' } }
      },
    })
  } else {
    say(`Reusing the devnet in ${root} (--reset starts a new one).`)
    net = await openValidatorNetwork(root)
  }
  const procs = net.validators.map((v) => new NodeProcess(v.home))
  const workers: WorkerDaemon[] = []
  const shutdown = async (why: string, code: number): Promise<never> => {
    for (const w of workers) await w.stop().catch(() => {})
    await Promise.all(procs.map((p) => p.stop()))
    say(`devnet ${why}`)
    process.exit(code)
  }
  process.on('SIGINT', () => void shutdown('stopped by SIGINT', 0))
  process.on('SIGTERM', () => void shutdown('stopped by SIGTERM', 0))
  try {
    say(`Starting ${procs.length} validators…`)
    for (const p of procs) p.start()
    await Promise.all(net.validators.map((v, i) => waitForHeight(v.rpc, 1n, procs[i]!.exited())))
    const log = (m: string) => {
      if (!o.quiet && o.output !== 'json') console.log(m)
    }
    workers.push(
      ...(await startDevnetWorkers(coordinator, {
        chainId: net.chainId,
        rpc: net.validators[0]!.rpc,
        rpcs: net.validators.map((v) => v.rpc),
        gateway: net.validators[0]!.gateway,
        gateways: net.validators.map((v) => v.gateway),
        log,
      })),
    )
    const info = {
      home: root,
      chain_id: net.chainId,
      validators: net.validators.map((v) => ({
        moniker: v.moniker,
        home: v.home,
        rpc: v.rpc,
        p2p: `127.0.0.1:${v.ports.p2p}`,
        gateway: v.gateway,
        operator: v.account,
        log: path.join(homePaths(v.home).logs, 'beryld.log'),
      })),
      workers: workers.map((w) => w.address),
      accounts: net.accounts.map((a) => ({ name: a.name, address: a.address, mnemonic: a.mnemonic })),
    }
    if (o.output === 'json') console.log(JSON.stringify({ ready: info }))
    else {
      say(`\nBeryl devnet is running: ${procs.length} validators (chain ${net.chainId}). Press Ctrl-C to stop.\n`)
      for (const v of info.validators) say(`  ${v.moniker}  RPC ${v.rpc}  P2P ${v.p2p}\n    gateway ${v.gateway}\n    home ${v.home}  (log ${v.log})`)
      say(
        `\n  workers  ${workers.length}, spread over the gateways (${info.workers.join(', ')})\n\nFunded accounts (test keyring in ${coordinator}; 1 000 000 BERYL each):`,
      )
      for (const a of info.accounts) say(`  ${a.name}  ${a.address}${a.mnemonic ? `\n    mnemonic: ${a.mnemonic}` : ''}`)
      say(
        `\nTry:\n  ./bin/beryld query validator list --home ${coordinator}\n  ./bin/beryld task run image --prompt "a red fox" --out ./out --from account1 --home ${coordinator} --keyring-backend test\n`,
      )
    }
    if (o.demo) {
      const ok = await runDemo(coordinator, net.validators[0]!.rpc, net.validators[0]!.gateway, o.output)
      if (o.exitAfterDemo) return shutdown('stopped after the demo', ok ? 0 : 1)
    }
  } catch (err) {
    console.error(`Error: ${(err as Error).message}`)
    return shutdown('stopped by an error', 1)
  }
  const why = await Promise.race(procs.map((p, i) => p.exited().then((r) => `validator-${i} ${r}`)))
  return shutdown(why, 1)
}

/** The network of an existing devnet root (homes validator-0…). */
export async function openValidatorNetwork(root: string): Promise<ValidatorNetwork> {
  const validators: NetworkValidator[] = []
  for (let i = 0; fs.existsSync(homePaths(validatorHome(root, i)).genesis); i++) {
    const home = validatorHome(root, i)
    const cfg = readAppConfig(home)
    const p2p = /laddr = "tcp:\/\/[^:]+:(\d+)"/.exec(fs.readFileSync(homePaths(home).configToml, 'utf8').split('[p2p]')[1] ?? '')
    validators.push({
      index: i,
      moniker: `validator-${i}`,
      home,
      rpc: cfg.cometbft.rpc,
      account: new Keyring(home, 'test').show('validator').address,
      gateway: (await gatewayAddressOf(home))!,
      ports: { ...DEFAULT_PORTS, p2p: Number(p2p?.[1] ?? 0) },
    })
  }
  const kr = new Keyring(validators[0]!.home, 'test')
  return {
    root,
    chainId: genesisChainId(validators[0]!.home),
    validators,
    accounts: kr
      .list()
      .filter((k) => k.name.startsWith('account'))
      .map((k) => ({ name: k.name, address: k.address, mnemonic: '' })),
  }
}
