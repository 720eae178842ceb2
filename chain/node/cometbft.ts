import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const COMETBFT_VERSION = '0.38.25'

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The pinned CometBFT binary: $BERYL_COMETBFT, else the project's .bin/, else PATH. */
export function cometbftBinary(): string {
  const candidates = [process.env.BERYL_COMETBFT, path.join(projectRoot, '.bin', 'cometbft')].filter(Boolean) as string[]
  for (const c of candidates) if (fs.existsSync(c)) return checkVersion(c)
  const found = spawnSync('sh', ['-c', 'command -v cometbft'], { encoding: 'utf8' }).stdout.trim()
  if (found) return checkVersion(found)
  throw new Error(`CometBFT v${COMETBFT_VERSION} is not installed; run \`npm run setup\` (it installs it into ${path.join(projectRoot, '.bin')})`)
}

const checked = new Set<string>()
function checkVersion(bin: string): string {
  if (checked.has(bin)) return bin
  const v = spawnSync(bin, ['version'], { encoding: 'utf8' }).stdout.trim()
  if (v !== COMETBFT_VERSION) throw new Error(`${bin} is CometBFT ${v || '(unknown)'}, Beryl needs ${COMETBFT_VERSION}; run \`npm run setup\``)
  checked.add(bin)
  return bin
}

export function cometbftInit(home: string): void {
  const r = spawnSync(cometbftBinary(), ['init', '--home', home], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`cometbft init failed: ${r.stderr || r.stdout}`)
}

/** The node id (peer address part) of a home's CometBFT node key. */
export function cometbftShowNodeId(home: string): string {
  const r = spawnSync(cometbftBinary(), ['show-node-id', '--home', home], { encoding: 'utf8' })
  return r.stdout.trim()
}

export interface CometProcess {
  child: ChildProcess
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stop(timeoutMs?: number): Promise<void>
}

/** Starts `cometbft node` as a child; its output goes to `logFile`. */
export function startCometbft(home: string, logFile: string, extraArgs: string[] = []): CometProcess {
  fs.mkdirSync(path.dirname(logFile), { recursive: true })
  const out = fs.openSync(logFile, 'a')
  const child = spawn(cometbftBinary(), ['node', '--home', home, ...extraArgs], { stdio: ['ignore', out, out] })
  fs.closeSync(out)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  return {
    child,
    exited,
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      await exited
      clearTimeout(timer)
    },
  }
}

/** The last lines of a log file, to explain why a process stopped. */
export function tail(file: string, lines = 15): string {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n')
    return text.slice(-lines).join('\n')
  } catch {
    return ''
  }
}

/** Pids of the CometBFT processes running with this home (read from /proc; empty where there is none). */
export function cometPids(home: string): number[] {
  const pids: number[] = []
  if (!fs.existsSync('/proc')) return pids
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0')
      if (cmd[0]?.endsWith('cometbft') && cmd.includes(home)) pids.push(Number(d))
    } catch {
      /* raced */
    }
  }
  return pids
}
