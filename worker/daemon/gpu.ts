import { execFile } from 'node:child_process'

/** The GPU a worker reports to the chain when it joins. */
export interface GpuProfile {
  /** Card name; `"<N>x <name>"` for N identical cards. */
  name: string
  /** VRAM of all the cards counted, in GiB (rounded to the nearest: a 24564 MiB card is the "24 GB" it is sold as; at least 1). */
  vramGb: number
  count: number
  source: 'nvidia-smi' | 'config' | 'cpu'
}

/** Runs a command and resolves with its standard output. */
export type CommandRunner = (cmd: string, args: string[]) => Promise<string>

export const NVIDIA_SMI = 'nvidia-smi'
export const NVIDIA_SMI_ARGS = ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits']
const TIMEOUT_MS = 10_000

/**
 * Parses `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits` (memory in MiB).
 * Identical cards (same name and memory) are grouped and the largest group is reported, as Crynux does:
 * ties go to the larger card, then to the name that sorts first. Undefined when no GPU is listed.
 */
export function parseNvidiaSmi(csv: string): GpuProfile | undefined {
  const groups = new Map<string, { name: string; mib: number; count: number }>()
  for (const raw of csv.split(/\r?\n/)) {
    const line = raw.trim()
    if (!line) continue
    // The last comma separates the memory, so a name containing a comma still parses.
    const m = /^(.*\S)\s*,\s*(\d+(?:\.\d+)?)$/.exec(line)
    if (!m) throw new Error(`unexpected nvidia-smi output line ${JSON.stringify(line)}; expected "<name>, <memory MiB>"`)
    const name = m[1]!,
      mib = Number(m[2])
    const key = `${name}\0${mib}`
    const g = groups.get(key) ?? { name, mib, count: 0 }
    g.count++
    groups.set(key, g)
  }
  const best = [...groups.values()].sort((a, b) => b.count - a.count || b.mib - a.mib || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))[0]
  if (!best) return undefined
  return {
    name: best.count === 1 ? best.name : `${best.count}x ${best.name}`,
    vramGb: Math.max(1, Math.round((best.mib * best.count) / 1024)),
    count: best.count,
    source: 'nvidia-smi',
  }
}

/** Default runner: `execFile` with a 10 s timeout; a failure keeps the command's output for the message. */
const execRunner: CommandRunner = (cmd, args) =>
  new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: TIMEOUT_MS, windowsHide: true }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stdout, stderr }))
      else resolve(stdout)
    })
  })

/** A one-line reason for a failed run: the command's own output when it printed any, else the error. */
function failureReason(err: unknown): string {
  const e = err as { message?: unknown; stdout?: unknown; stderr?: unknown; killed?: boolean; signal?: unknown }
  if (e?.killed && e.signal) return `timed out after ${TIMEOUT_MS / 1000} s`
  const text = [e?.stderr, e?.stdout, e?.message, err].find((t) => typeof t === 'string' && t.trim())
  return String(text ?? 'unknown error')
    .trim()
    .replace(/\s*\r?\n\s*/g, ' ')
}

/** Detects NVIDIA GPUs with nvidia-smi. Never throws: `note` says what was found or why not. */
export async function detectGpu(opts: { run?: CommandRunner } = {}): Promise<{ profile?: GpuProfile; note: string }> {
  let out: string
  try {
    out = await (opts.run ?? execRunner)(NVIDIA_SMI, NVIDIA_SMI_ARGS)
  } catch (err) {
    if ((err as { code?: unknown })?.code === 'ENOENT') return { note: 'nvidia-smi not found: no NVIDIA GPU detected' }
    return { note: `nvidia-smi failed: ${failureReason(err)}` }
  }
  let profile: GpuProfile | undefined
  try {
    profile = parseNvidiaSmi(String(out))
  } catch (err) {
    return { note: `nvidia-smi failed: ${(err as Error).message}` }
  }
  if (!profile) return { note: 'nvidia-smi failed: it listed no GPU' }
  return { profile, note: `detected ${profile.name} (${profile.vramGb} GB) with nvidia-smi` }
}

/** The profile to report: the configured override, else the detected GPU, else the declared CPU profile. */
export function chooseGpuProfile(
  detected: GpuProfile | undefined,
  override: { name: string; vramGb: number } | undefined,
  cpu: { name: string; vramGb: number },
): GpuProfile {
  if (override) return { name: override.name, vramGb: override.vramGb, count: 1, source: 'config' }
  if (detected) return detected
  return { name: cpu.name, vramGb: cpu.vramGb, count: 1, source: 'cpu' }
}
