import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { genesisChainId, homePaths, readAppConfig, writeAppConfig, DEFAULT_PORTS, type Ports } from '../chain/node/config.ts'
import type { Command } from 'commander'
import { Keyring } from './keyring.ts'
import { intIn, outputOpt } from './options.ts'
import { addGenesisAccount, initHome } from './init.ts'
import { SMOLLM2_MODEL_ID } from '../sdk/models.ts'
import type { DaemonOptions, WorkerDaemon } from '../worker/daemon/daemon.ts'

export const DEVNET_FUNDS = '1000000000000uberyl' // 1 000 000 BERYL per account

/** Ports this process has handed out already (a port is never handed out twice, even after its server closed). */
const handedOut = new Set<number>()

/** Whether nothing listens on `port` of 127.0.0.1 now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

/**
 * A free loopback port for a server this process is about to start. It is drawn at random below Linux's ephemeral
 * range (32768–60999): a port the OS chose with listen(0) is an ephemeral one, and between the check and the
 * server's bind any outgoing connection on the machine (a CometBFT peer dialling, an HTTP client) may take it as
 * its local port — the server then fails with EADDRINUSE. Random draws keep two suites on one machine apart.
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 1000; tries++) {
    const port = 20000 + crypto.randomInt(12000)
    if (handedOut.has(port)) continue
    if (await portFree(port)) {
      handedOut.add(port)
      return port
    }
  }
  throw new Error('no free loopback port found between 20000 and 31999')
}

export async function pickPorts(random: boolean): Promise<Ports> {
  if (!random) return { ...DEFAULT_PORTS }
  const [p2p, rpc, abci, grpc, api, gateway] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort()] as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  return { p2p, rpc, abci, grpc, api, gateway }
}

export interface DevnetAccount {
  name: string
  address: string
  mnemonic: string
}

/** What a devnet validator bonds in its gentx: 10 000 BERYL. */
export const DEVNET_SELF_BOND = 10_000_000_000n

/**
 * Creates a devnet validator home with funded test-keyring accounts and the validator's operator key
 * `validator`, with which its gateway attests checked outputs (docs/decisions/0023). With `ceremony` (the
 * default, a single-validator devnet) the home is its own genesis ceremony: the operator is funded and its
 * gentx bonds it, so this one validator holds all the power and alone settles tasks. Without it, the
 * caller (a multi-validator network) funds the operators and runs the ceremony.
 */
export async function createDevnetHome(
  home: string,
  o: { accounts: number; chainId: string; ports: Ports; ceremony?: boolean; operatorMnemonic?: string; voteExtensionsEnableHeight?: bigint },
): Promise<DevnetAccount[]> {
  initHome({ home, moniker: 'devnet-validator', chainId: o.chainId, ports: o.ports, p2pHost: '127.0.0.1', timeoutCommit: '500ms' })
  const kr = new Keyring(home, 'test')
  const operator = await kr.add('validator', o.operatorMnemonic ?? Keyring.generateMnemonic())
  const genesisFile = homePaths(home).genesis
  const g = JSON.parse(fs.readFileSync(genesisFile, 'utf8'))
  // A devnet has a handful of nodes: a task needs three that meet its filters (mainnet: 10).
  g.app_state.task = { params: { min_eligible_nodes: 3 } }
  fs.writeFileSync(genesisFile, JSON.stringify(g, null, 2) + '\n')
  const cfg = readAppConfig(home)
  // All the devnet's workers and apps dial from 127.0.0.1: the per-host connection rate is raised.
  writeAppConfig(home, { ...cfg, gateway: { ...cfg.gateway, 'attester-key': 'validator', 'keyring-backend': 'test', 'connections-per-host-per-second': 200 } })
  if (o.ceremony !== false) {
    addGenesisAccount(home, operator.address, [{ denom: 'uberyl', amount: DEVNET_FUNDS.replace('uberyl', '') }])
    const { writeGenTx, collectGenTxs } = await import('./gentx.ts')
    await writeGenTx(home, await kr.wallet('validator'), { moniker: 'devnet-validator', amount: DEVNET_SELF_BOND, host: '127.0.0.1', p2pPort: o.ports.p2p })
    collectGenTxs(home, undefined, { voteExtensionsEnableHeight: o.voteExtensionsEnableHeight })
  }
  const accounts: DevnetAccount[] = []
  for (let i = 0; i < o.accounts; i++) {
    const mnemonic = Keyring.generateMnemonic()
    const info = await kr.add(`account${i + 1}`, mnemonic)
    addGenesisAccount(home, info.address, [{ denom: 'uberyl', amount: DEVNET_FUNDS.replace('uberyl', '') }])
    accounts.push({ name: info.name, address: info.address, mnemonic })
  }
  return accounts
}

/** The devnet's worker homes: `<home>/workers/worker-<i>`, each with a test-keyring key "worker". */
export const workerHome = (home: string, i: number) => path.join(home, 'workers', `worker-${i}`)

/** Creates (and funds in the genesis) the devnet's worker homes; their config is written once the gateway address is known. */
export async function createDevnetWorkers(home: string, n: number): Promise<string[]> {
  const addresses: string[] = []
  for (let i = 1; i <= n; i++) {
    const kr = new Keyring(workerHome(home, i), 'test')
    const info = await kr.add('worker', Keyring.generateMnemonic())
    addGenesisAccount(home, info.address, [{ denom: 'uberyl', amount: DEVNET_FUNDS.replace('uberyl', '') }])
    addresses.push(info.address)
  }
  return addresses
}

/** Starts the devnet's workers in this process (each a full daemon with its own libp2p session). */
export async function startDevnetWorkers(
  home: string,
  o: {
    chainId: string
    rpc: string
    gateway: string
    gateways?: string[]
    rpcs?: string[]
    log: (m: string) => void
    fault?: DaemonOptions['fault']
    runner?: DaemonOptions['runner']
    smollm2?: boolean
  },
): Promise<WorkerDaemon[]> {
  const dirs = fs.existsSync(path.join(home, 'workers'))
    ? fs
        .readdirSync(path.join(home, 'workers'))
        .filter((d) => /^worker-\d+$/.test(d))
        .sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)))
    : []
  // The worker, its models and libp2p load only when a devnet runs workers: other commands start quickly.
  const [{ ensureBundledModels }, { installSmolLM2 }, { smollm2Available }, { loadWorkerConfig, writeWorkerConfig }, { WorkerDaemon }] = await Promise.all([
    import('../worker/models/store.ts'),
    import('../worker/models/gguf-install.ts'),
    import('../worker/models/smollm2.ts'),
    import('../worker/daemon/config.ts'),
    import('../worker/daemon/daemon.ts'),
  ])
  const modelDir = path.join(home, 'models')
  await ensureBundledModels(modelDir)
  // The chat model, when setup fetched it (the workers share one model folder and load it on first use).
  if (o.smollm2 !== false && dirs.length) {
    if (smollm2Available()) await installSmolLM2(modelDir, { log: o.log })
    else o.log('SmolLM2 is not fetched (`npm run setup` fetches it): the workers serve the bundled models only')
  }
  // Started together: each joins with its own account, so their transactions do not wait for one another.
  const daemons = await Promise.all(
    dirs.map(async (d, i) => {
      const wh = path.join(home, 'workers', d)
      // With several gateways (validators), worker i prefers gateway i mod n and fails over down the list.
      const all = o.gateways?.length ? o.gateways : [o.gateway]
      const gateways = [...all.slice(i % all.length), ...all.slice(0, i % all.length)]
      const rpc = o.rpcs?.length ? o.rpcs[i % o.rpcs.length]! : o.rpc
      const metricsAddress = `127.0.0.1:${await freePort()}`
      writeWorkerConfig(
        wh,
        { chainId: o.chainId, nodeRpc: rpc, gateways, key: 'worker', keyringBackend: 'test', modelDir, metricsAddress },
        { overwrite: true },
      )
      const config = loadWorkerConfig(wh)
      const signer = await new Keyring(wh, 'test').wallet('worker')
      const [acc] = await signer.getAccounts()
      const daemon = new WorkerDaemon({ config, signer, address: acc!.address, log: (l) => o.log(`[${d}] ${l}`), fault: o.fault, runner: o.runner })
      await daemon.start()
      return daemon
    }),
  )
  return daemons
}

export interface DevnetOptions {
  home?: string
  reset?: boolean
  accounts: number
  workers: number
  validators: number
  randomPorts?: boolean
  chainId: string
  /** Every task is cross-validated (the vss module's min_sampling_rate = 1). */
  sampleAll?: boolean
  /** Give the workers SmolLM2 (default true when it is fetched). */
  smollm2?: boolean
  /** Also serve the OpenAI-compatible API on this port (0: a free one), with a key for account1. */
  api?: number
  /** Run a demo image task once the workers are up, writing the PNG into <home>/demo/. */
  demo?: boolean
  /** Stop after the demo (for tests and scripts). */
  exitAfterDemo?: boolean
  quiet?: boolean
  output: 'text' | 'json'
}

export async function runDevnet(o: DevnetOptions): Promise<never> {
  if (o.validators > 1) return (await import('./network.ts')).runNetworkDevnet(o)
  const home = path.resolve(o.home ?? fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-devnet-')))
  if (o.reset && fs.existsSync(home)) fs.rmSync(home, { recursive: true, force: true })
  const fresh = !fs.existsSync(homePaths(home).genesis)
  const say = (m: string) => {
    if (o.output !== 'json') console.log(m)
  }
  let accounts: DevnetAccount[] = []
  if (fresh) {
    const ports = await pickPorts(!!o.randomPorts)
    accounts = await createDevnetHome(home, { accounts: o.accounts, chainId: o.chainId, ports })
    await createDevnetWorkers(home, o.workers)
    if (o.sampleAll) {
      const file = homePaths(home).genesis
      const g = JSON.parse(fs.readFileSync(file, 'utf8'))
      g.app_state.vss = { params: { ...g.app_state.vss?.params, min_sampling_rate: '1000000000000000000' } }
      fs.writeFileSync(file, JSON.stringify(g, null, 2) + '\n')
    }
  } else {
    say(`Reusing the devnet in ${home} (--reset starts a new one; --workers and --sample-all apply to new ones).`)
  }
  const chainId = genesisChainId(home)
  const cfg = readAppConfig(home)
  const log = (m: string) => {
    if (!o.quiet && o.output !== 'json' && !m.startsWith('abci:')) console.log(m)
  }
  const { startBerylNode } = await import('./run-node.ts')
  const node = await startBerylNode(home, { log })
  const workers: WorkerDaemon[] = []
  let api: { close(): Promise<void> } | undefined
  const shutdown = async (why: string, code: number): Promise<never> => {
    await api?.close().catch(() => {})
    for (const w of workers) await w.stop().catch(() => {})
    await node.stop(why)
    process.exit(code)
  }
  try {
    await waitForHeight(cfg.cometbft.rpc, 1n, node.done)
    const gateway = node.gateway ? (node.gateway.gateway.multiaddrs.find((a) => a.includes('/tcp/')) ?? '') : ''
    say('Starting the workers…')
    workers.push(...(await startDevnetWorkers(home, { chainId, rpc: cfg.cometbft.rpc, gateway, log, smollm2: o.smollm2 })))
    const chat = workers.some((w) => w.models.some((m) => m.id === SMOLLM2_MODEL_ID))
    let apiInfo: { url: string; key: string; config: string } | undefined
    if (o.api !== undefined) {
      const file = path.join(home, 'config', 'api.toml')
      if (!fs.existsSync(file)) {
        const key = `sk-beryl-devnet-${crypto.randomBytes(12).toString('hex')}`
        fs.writeFileSync(
          file,
          `# beryld api for this devnet (api/README.md)\nlisten = "127.0.0.1:${o.api}"\nnode = "${cfg.cometbft.rpc}"\ngateways = ["${gateway}"]\n\n[[keys]]\nname = "devnet"\nkey = "${key}"\naccount = "account1"\ndaily_limit_uberyl = "1000000000000"\n`,
        )
      }
      const { startApi } = await import('./api.ts')
      const started = await startApi({ config: file, home, keyringBackend: 'test', log })
      api = started.server
      apiInfo = { url: `${started.url}/v1`, key: /key = "([^"]+)"/.exec(fs.readFileSync(file, 'utf8'))?.[1] ?? '', config: file }
    }
    const kr = new Keyring(home, 'test')
    const keys = kr.list().filter((k) => k.name.startsWith('account'))
    const info = {
      home,
      chain_id: chainId,
      rpc: cfg.cometbft.rpc,
      gateway,
      workers: workers.map((w) => w.address),
      ...(apiInfo ? { openai_api: apiInfo } : {}),
      grpc: cfg.grpc?.address ?? '',
      api: cfg.api?.address ? cfg.api.address.replace(/^tcp:\/\//, 'http://') : '',
      accounts: fresh ? accounts : keys.map((k) => ({ name: k.name, address: k.address })),
    }
    if (o.output === 'json') console.log(JSON.stringify({ ready: info }))
    else {
      say(`
Beryl devnet is running (chain ${chainId}). Press Ctrl-C to stop.

  home          ${home}
  CometBFT RPC  ${cfg.cometbft.rpc}
  gRPC          ${info.grpc || 'off'}
  REST          ${info.api || 'off'}${info.api ? `  (explorer ${info.api}/, ${info.api}/openapi.json, ${info.api}/metrics)` : ''}
  gateway       ${gateway}
  workers       ${workers.length} (bundled models${chat ? ' and SmolLM2-135M-Instruct' : ''}, ${workers.map((w) => w.address).join(', ')})${
    apiInfo
      ? `
  OpenAI API    ${apiInfo.url}  (key ${apiInfo.key}; config ${apiInfo.config})`
      : ''
  }

Funded accounts (test keyring in the home; 1 000 000 BERYL each):`)
      for (const a of fresh ? accounts : keys.map((k) => ({ ...k, mnemonic: '(stored in the keyring)' })))
        say(`  ${a.name}  ${a.address}\n    mnemonic: ${a.mnemonic}`)
      say(`
Try:
  ./bin/beryld task run image --prompt "a lighthouse at dusk" --out ./out --from account1 --home ${home} --keyring-backend test
  ./bin/beryld task run text --prompt "Write a haiku about rain" --from account1 --home ${home} --keyring-backend test
  ./bin/beryld task list --creator ${info.accounts[0]?.address ?? ''} --home ${home}
  ./bin/beryld worker status --home ${workerHome(home, 1)}
  ./bin/beryld status --home ${home}
`)
    }
    if (o.demo) {
      const r = await runDemo(home, cfg.cometbft.rpc, gateway, o.output)
      const t = chat ? await runChatDemo(home, cfg.cometbft.rpc, gateway, o.output) : true
      if (o.exitAfterDemo) await shutdown('stopped after the demo', r && t ? 0 : 1)
    }
  } catch (err) {
    console.error(`Error: ${(err as Error).message}`)
    await shutdown('stopped by an error', 1)
  }
  process.on('SIGINT', () => void shutdown('stopped by SIGINT', 0))
  process.on('SIGTERM', () => void shutdown('stopped by SIGTERM', 0))
  const reason = await node.done
  console.log(`beryld: ${reason}`)
  return shutdown(reason, reason.startsWith('stopped') ? 0 : 1)
}

/** The demo: one image task through the whole verified flow, its PNG written into <home>/demo/. */
export async function runDemo(home: string, rpc: string, gateway: string, output: 'text' | 'json'): Promise<boolean> {
  const wallet = await new Keyring(home, 'test').wallet('account1')
  const { BerylClient } = await import('../sdk/client.ts')
  const client = await BerylClient.connect(rpc, wallet, { gateways: [gateway], keyStoreDir: path.join(home, 'sdk-tasks') })
  const prompt = 'a lighthouse on a cliff at dusk'
  if (output !== 'json') console.log(`Demo: an image task ("${prompt}", 256x256, 20 steps), verified end to end…`)
  try {
    const r = await client.runTask({
      type: 'image',
      args: { prompt, width: 256, height: 256, steps: 20, seed: 42 },
      onProgress: (p) => {
        if (output !== 'json') console.log(`  ${p.stage.padEnd(10)} h${p.height}  ${p.message}`)
      },
    })
    const dir = path.join(home, 'demo')
    fs.mkdirSync(dir, { recursive: true })
    const file = path.join(dir, `${r.commitments[0]}.png`)
    fs.writeFileSync(file, r.outputs[0]!)
    const out = {
      png: file,
      task: r.commitments[0],
      task_id: r.taskId,
      score: Buffer.from(r.task.score).toString('hex'),
      cross_validated: r.sampled,
      fee_paid: r.feePaid.toString(),
      node: r.task.selectedNode,
    }
    if (output === 'json') console.log(JSON.stringify({ demo: out }))
    else {
      console.log(`
Demo done: wrote ${file}
  task ${out.task}, run by ${out.node}${r.sampled ? ', cross-validated by a group of three' : ''}
  its pHash ${out.score} is the score on chain; fee paid ${out.fee_paid} uberyl
`)
    }
    return true
  } catch (err) {
    console.error(`Demo failed: ${(err as Error).message}`)
    return false
  } finally {
    client.disconnect()
  }
}

/** The chat demo: SmolLM2 answers a question through the same verified flow. */
async function runChatDemo(home: string, rpc: string, gateway: string, output: 'text' | 'json'): Promise<boolean> {
  const wallet = await new Keyring(home, 'test').wallet('account1')
  const { BerylClient } = await import('../sdk/client.ts')
  const client = await BerylClient.connect(rpc, wallet, { gateways: [gateway], keyStoreDir: path.join(home, 'sdk-tasks') })
  const question = 'What is the capital of France?'
  if (output !== 'json') console.log(`Demo: asking SmolLM2 "${question}", verified end to end…`)
  try {
    const r = await client.runTask({
      type: 'text',
      args: { prompt: question, max_new_tokens: 48, model: SMOLLM2_MODEL_ID },
      requirements: { modelIds: [SMOLLM2_MODEL_ID] },
      onProgress: (p) => {
        if (output !== 'json') console.log(`  ${p.stage.padEnd(10)} h${p.height}  ${p.message}`)
      },
    })
    const answer = (JSON.parse(Buffer.from(r.outputs[0]!).toString()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content
    const out = {
      question,
      answer,
      task: r.commitments[0],
      task_id: r.taskId,
      cross_validated: r.sampled,
      fee_paid: r.feePaid.toString(),
      node: r.task.selectedNode,
    }
    if (output === 'json') console.log(JSON.stringify({ chat_demo: out }))
    else {
      console.log(`
SmolLM2 answered: ${answer}
  task ${out.task}, run by ${out.node}${r.sampled ? ', cross-validated by a group of three (exact sha256 match)' : ''}; fee paid ${out.fee_paid} uberyl
`)
    }
    return true
  } catch (err) {
    console.error(`Chat demo failed: ${(err as Error).message}`)
    return false
  } finally {
    client.disconnect()
  }
}

/** Polls CometBFT's /status until the chain reaches `height` (or the node stops). */
export async function waitForHeight(rpc: string, height: bigint, stopped?: Promise<string>): Promise<void> {
  let failed: string | undefined
  void stopped?.then((r) => {
    failed = r
  })
  for (;;) {
    if (failed) throw new Error(`the node stopped before producing blocks: ${failed}`)
    try {
      const res = await fetch(`${rpc}/status`, { signal: AbortSignal.timeout(2000) })
      const body = (await res.json()) as { result: { sync_info: { latest_block_height: string } } }
      if (BigInt(body.result.sync_info.latest_block_height) >= height) return
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** `beryld devnet`: a local network in one command. */
export function registerDevnetCommands(program: Command): void {
  program
    .command('devnet')
    .description(
      'run a local network: validators (each its own process, home, ports, gateway and CometBFT, from a gentx ceremony when more than one), funded accounts and GPU workers on the bundled models (Ctrl-C stops it)',
    )
    .option('--home <dir>', 'devnet home (default: a fresh temporary folder); reused if it already holds a devnet')
    .option('--reset', 'delete the home first and start a new chain')
    .option('--accounts <n>', 'funded accounts to create', intIn(1, 100, '--accounts'), 3)
    .option('--workers <n>', 'GPU workers to run (in this process, on the bundled models)', intIn(0, 200, '--workers'), 3)
    .option(
      '--validators <n>',
      'validators: 1 runs in this process; 2..7 run as separate `beryld start` processes in <home>/validator-<i>',
      intIn(1, 7, '--validators'),
      1,
    )
    .option('--sample-all', 'cross-validate every task (min_sampling_rate = 1), for demos and tests')
    .option('--no-smollm2', 'do not give the workers the SmolLM2 chat model (they serve it by default once `npm run setup` fetched it)')
    .option('--api [port]', 'also serve the OpenAI-compatible API (beryld api) on this port (default 8080; 0 picks a free one), with a key for account1')
    .option('--demo', 'run a demo image task and ask SmolLM2 a question once the workers are up (the PNG goes into <home>/demo/)')
    .option('--exit-after-demo', 'stop after the demo (exit code 1 if it failed)')
    .option('--quiet', "print only the summary and the demo, not the node's and workers' logs")
    .option('--random-ports', 'use free random ports instead of the standard ones')
    .option('--chain-id <id>', 'chain id', 'beryl-devnet-1')
    .addOption(outputOpt())
    .action(async (o) => {
      await runDevnet({
        home: o.home,
        reset: o.reset,
        accounts: o.accounts,
        workers: o.workers,
        validators: o.validators,
        sampleAll: o.sampleAll,
        smollm2: o.smollm2,
        api: o.api === undefined ? undefined : o.api === true ? 8080 : intIn(0, 65535, '--api')(o.api),
        demo: o.demo || o.exitAfterDemo,
        exitAfterDemo: o.exitAfterDemo,
        quiet: o.quiet,
        randomPorts: o.randomPorts,
        chainId: o.chainId,
        output: o.output,
      })
    })
}
