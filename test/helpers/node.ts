import { execFile, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { readAppConfig } from '../../chain/node/config.ts'
import { cometPids } from '../../chain/node/cometbft.ts'
import { createDevnetHome, pickPorts, waitForHeight, type DevnetAccount } from '../../cli/devnet.ts'
import { Keyring } from '../../cli/keyring.ts'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BERYLD = path.join(ROOT, 'bin', 'beryld')

export interface TestNode {
  home: string
  rpc: string
  abciPort: number
  chainId: string
  accounts: DevnetAccount[]
  /** The validator's operator account (key `validator`), which holds all the bonded power and attests results. */
  operator: DevnetAccount
  process: ChildProcess
  output: () => string
  /** SIGTERM and wait for a clean exit; returns the exit code. */
  stop(): Promise<number | null>
  /** SIGKILL the beryld process (CometBFT then stops on its own when the ABCI connection drops). */
  kill9(): Promise<void>
  start(env?: Record<string, string>): Promise<void>
  /** Starts with a fault armed and waits for the process to die of it. */
  startAndCrash(env: Record<string, string>): Promise<void>
  height(): Promise<bigint>
  cleanup(): Promise<void>
}

/** A real single-validator node: `beryld start` (ABCI app + CometBFT child) in a temp home on free ports. */
export async function startTestNode(
  opts: { accounts?: number; chainId?: string; genesis?: (appState: Record<string, any>, accounts: DevnetAccount[]) => void } = {},
): Promise<TestNode> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-test-'))
  const chainId = opts.chainId ?? 'beryl-test-1'
  const ports = await pickPorts(true)
  // The validator's operator key: its gateway attests with it, and tests may attest by hand with it.
  const operatorMnemonic = Keyring.generateMnemonic()
  // Vote extensions off: these single-node tests read a task's dispatch in its creation block (extensions, which
  // dispatch a block later, are tested on their own networks).
  const accounts = await createDevnetHome(home, { accounts: opts.accounts ?? 3, chainId, ports, operatorMnemonic, voteExtensionsEnableHeight: 0n })
  const operator: DevnetAccount = { name: 'validator', address: new Keyring(home, 'test').show('validator').address, mnemonic: operatorMnemonic }
  if (opts.genesis) {
    const file = path.join(home, 'config', 'genesis.json')
    const g = JSON.parse(fs.readFileSync(file, 'utf8'))
    opts.genesis(g.app_state, accounts)
    fs.writeFileSync(file, JSON.stringify(g, null, 2))
  }
  // Fast blocks keep the suite short.
  const cfgFile = path.join(home, 'config', 'config.toml')
  fs.writeFileSync(cfgFile, fs.readFileSync(cfgFile, 'utf8').replace(/^timeout_commit = .*$/m, 'timeout_commit = "200ms"'))
  const rpc = readAppConfig(home).cometbft.rpc
  let out = ''
  const node: TestNode = {
    home,
    rpc,
    abciPort: ports.abci,
    chainId,
    accounts,
    operator,
    process: undefined as unknown as ChildProcess,
    output: () => out,
    async start(env: Record<string, string> = {}) {
      const child = spawn(BERYLD, ['start', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
      child.stdout!.on('data', (d) => {
        out += d
      })
      child.stderr!.on('data', (d) => {
        out += d
      })
      node.process = child
      const exited = new Promise<string>((resolve) => child.once('exit', (c, s) => resolve(`beryld exited (${s ?? c}):\n${out}`)))
      await waitForHeight(rpc, 1n, exited)
    },
    async startAndCrash(env) {
      const child = spawn(BERYLD, ['start', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
      child.stdout!.on('data', (d) => {
        out += d
      })
      child.stderr!.on('data', (d) => {
        out += d
      })
      node.process = child
      await new Promise<void>((resolve) => child.once('exit', () => resolve()))
      await waitForCometExit(home)
    },
    async stop() {
      const p = node.process
      if (p.exitCode !== null || p.signalCode !== null) return p.exitCode
      const done = new Promise<number | null>((resolve) => p.once('exit', (c) => resolve(c)))
      p.kill('SIGTERM')
      return done
    },
    async kill9() {
      const p = node.process
      const done = new Promise<void>((resolve) => p.once('exit', () => resolve()))
      p.kill('SIGKILL')
      await done
      await waitForCometExit(home)
    },
    async height() {
      const r = (await (await fetch(`${rpc}/status`)).json()) as { result: { sync_info: { latest_block_height: string } } }
      return BigInt(r.result.sync_info.latest_block_height)
    },
    async cleanup() {
      if (node.process && node.process.exitCode === null && node.process.signalCode === null) {
        await node.stop()
      }
      await waitForCometExit(home)
      fs.rmSync(home, { recursive: true, force: true })
    },
  }
  await node.start()
  return node
}

/** Waits until no CometBFT process uses this home (it exits by itself once its app is gone). */
async function waitForCometExit(home: string): Promise<void> {
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

export async function rpcCall(rpc: string, method: string, params: Record<string, unknown>): Promise<any> {
  const res = await fetch(rpc, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  return res.json()
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await fn().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 150))
  }
}

/** Runs the real `beryld` CLI; resolves with its exit code and output (never rejects). */
export function runBeryld(
  args: string[],
  opts: { input?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(BERYLD, args, { env: { ...process.env, ...opts.env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })
    })
    child.stdin!.end(opts.input ?? '')
  })
}
