import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Keyring } from '../../cli/keyring.ts'
import { writeWorkerConfig } from '../../worker/daemon/config.ts'
import { BERYLD } from './node.ts'

export interface TestWorker {
  home: string
  address: string
  output: () => string
  process?: ChildProcess
  start(fault?: string): void
  /** Waits until the output matches. */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<void>
  kill9(): Promise<void>
  stop(): Promise<void>
  exited(): Promise<void>
  cleanup(): Promise<void>
}

/** A real `beryld worker start` process in a temp home, with a test-keyring key from a mnemonic. */
export async function createTestWorker(o: { chainId: string; rpc: string; gateways: string[]; mnemonic: string; modelDir: string }): Promise<TestWorker> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-worker-'))
  writeWorkerConfig(home, { chainId: o.chainId, nodeRpc: o.rpc, gateways: o.gateways, key: 'worker', keyringBackend: 'test', modelDir: o.modelDir })
  const address = (await new Keyring(home, 'test').add('worker', o.mnemonic)).address
  let out = ''
  const w: TestWorker = {
    home,
    address,
    output: () => out,
    start(fault?: string) {
      const args = ['worker', 'start', '--home', home, ...(fault ? ['--fault', fault] : [])]
      const child = spawn(BERYLD, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      child.stdout!.on('data', (d) => {
        out += d
      })
      child.stderr!.on('data', (d) => {
        out += d
      })
      w.process = child
    },
    async waitForLog(re, timeoutMs = 60_000) {
      const end = Date.now() + timeoutMs
      while (!re.test(out)) {
        if (Date.now() > end) throw new Error(`worker ${address}: timed out waiting for ${re}; output:\n${out}`)
        if (w.process && w.process.exitCode !== null) throw new Error(`worker ${address} exited (${w.process.exitCode}) before ${re}; output:\n${out}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    exited() {
      const p = w.process
      if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve()
      return new Promise((r) => p.once('exit', () => r()))
    },
    async kill9() {
      w.process?.kill('SIGKILL')
      await w.exited()
    },
    async stop() {
      w.process?.kill('SIGTERM')
      await w.exited()
    },
    async cleanup() {
      await w.kill9()
      fs.rmSync(home, { recursive: true, force: true })
    },
  }
  return w
}
