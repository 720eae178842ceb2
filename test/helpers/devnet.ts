import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { BERYLD } from './node.ts'

export interface TestDevnet {
  home: string
  info: { chain_id: string; rpc: string; gateway: string; workers: string[]; accounts: Array<{ name: string; address: string; mnemonic: string }> }
  output: () => string
  process: ChildProcess
  stop(): Promise<void>
}

/** `beryld devnet` (validator, gateway, in-process workers) on random ports in a temp home, until `stop()`. */
export async function startTestDevnet(args: string[] = []): Promise<TestDevnet> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-devnet-test-'))
  const child = spawn(BERYLD, ['devnet', '--home', home, '--random-ports', '--output', 'json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d) => {
    out += d
  })
  child.stderr!.on('data', (d) => {
    out += d
  })
  const info = await new Promise<TestDevnet['info']>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the devnet did not come up:\n${out}`)), 120_000)
    const check = () => {
      const line = out.split('\n').find((l) => l.startsWith('{"ready":'))
      if (line) {
        clearTimeout(timer)
        child.stdout!.off('data', check)
        resolve(JSON.parse(line).ready)
      }
    }
    child.stdout!.on('data', check)
    child.once('exit', (c) => {
      clearTimeout(timer)
      reject(new Error(`the devnet exited (${c}):\n${out}`))
    })
  })
  return {
    home,
    info,
    output: () => out,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const done = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await done
      }
      fs.rmSync(home, { recursive: true, force: true })
    },
  }
}
