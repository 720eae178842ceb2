import fs from 'node:fs'
import path from 'node:path'
import type { AdversaryName } from './agents/index.ts'
import type { RunResult } from './results.ts'
import { run, type SimConfig } from './scenario.ts'

/** A mean with its 95% interval across seeds (Student's t; a single seed has no interval). */
export interface Estimate {
  mean: number
  lo: number
  hi: number
  n: number
}

const T95 = [NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086]
const round = (x: number) => Math.round(x * 1e6) / 1e6

export function estimate(xs: number[]): Estimate {
  const n = xs.length
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, n)
  if (n < 2) return { mean: round(mean), lo: round(mean), hi: round(mean), n }
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1))
  const half = (T95[n - 1] ?? 1.96) * (sd / Math.sqrt(n))
  return { mean: round(mean), lo: round(mean - half), hi: round(mean + half), n }
}

export type Verdict = 'pays' | 'does not pay' | 'break-even'

/** Pays when the whole interval is above zero; does not when it is below; otherwise break-even (the twin cannot tell). */
export function verdict(e: Estimate): Verdict {
  // One seed has no interval: the twin cannot tell.
  if (e.n < 2) return 'break-even'
  if (e.lo > 0) return 'pays'
  if (e.hi < 0) return 'does not pay'
  return 'break-even'
}

/** One cell of the table: a strategy under a preset at one fee and one attacker share, over several seeds. */
export interface Cell {
  preset: string
  adversary: string
  share: number
  fee: number | null
  seeds: number
  /** BERYL per task the strategy's nodes ran (or its apps created): what it gained, all costs counted. */
  profitPerTask: Estimate
  /** What the strategy gains over the same capital doing honest work, per task (every adversary). */
  excessPerTask?: Estimate
  profitPerCapital: Estimate
  /** The verdict: on the excess for an adversary; for the honest baseline ("none"), on its profit (does honest work pay at all). */
  verdict: Verdict
  honestSlashes: Estimate
  honestProfitPerTask: Estimate
  latencyP50: Estimate
  latencyP95: Estimate
  throughputPerHour: Estimate
  validatedShare: Estimate
  txsPerTask: Estimate
  attempts: Record<string, number>
  closedForm?: { simulated: Estimate; expected: number; tasks: number }
}

export interface MatrixSpec {
  presets: Array<SimConfig['preset']>
  adversaries: Array<AdversaryName | 'none'>
  shares: number[]
  /** Fees in BERYL; null = the default fee mix. */
  fees: Array<number | null>
  seeds: string[]
  base: Partial<SimConfig>
}

export function cellOf(preset: string, adversary: string, share: number, fee: number | null, runs: RunResult[]): Cell {
  const pick = (f: (r: RunResult) => number) => estimate(runs.map(f))
  const adv = (r: RunResult) => r.strategies[adversary === 'none' ? 'honest' : adversary]
  const profit = pick((r) => adv(r)?.profitPerTask ?? 0)
  const excess = adversary !== 'none' ? pick((r) => adv(r)?.excessPerTask ?? 0) : undefined
  const attempts: Record<string, number> = {}
  for (const r of runs) for (const [k, v] of Object.entries(adv(r)?.attempts ?? {})) attempts[k] = (attempts[k] ?? 0) + v
  const cf = runs.filter((r) => r.closedForm)
  return {
    preset,
    adversary,
    share,
    fee,
    seeds: runs.length,
    profitPerTask: profit,
    ...(excess ? { excessPerTask: excess } : {}),
    profitPerCapital: pick((r) => adv(r)?.profitPerCapital ?? 0),
    verdict: adversary === 'none' ? verdict(profit) : verdict(excess ?? profit),
    honestSlashes: pick((r) => r.honestSlashes),
    honestProfitPerTask: pick((r) => r.strategies.honest?.profitPerTask ?? 0),
    latencyP50: pick((r) => r.latencyBlocks.p50),
    latencyP95: pick((r) => r.latencyBlocks.p95),
    throughputPerHour: pick((r) => r.throughputPerHour),
    validatedShare: pick((r) => r.validatedShare),
    txsPerTask: pick((r) => r.chainWork.txsPerTask),
    attempts: Object.fromEntries(Object.entries(attempts).sort()),
    ...(cf.length
      ? {
          closedForm: {
            simulated: estimate(cf.map((r) => r.closedForm!.simulated)),
            expected: round(cf.reduce((a, r) => a + r.closedForm!.expected, 0) / cf.length),
            tasks: cf.reduce((a, r) => a + r.closedForm!.tasks, 0),
          },
        }
      : {}),
  }
}

export interface MatrixResult {
  cells: Cell[]
  /** The honest baseline's latencies (blocks, first seed of the first preset): the latency chart. */
  latencies: Record<string, number[]>
  wallMs: number
  runs: number
}

/**
 * Runs every cell of the matrix over every seed. `onRun` reports progress (runs done, runs in all);
 * `onCell` hears each finished cell with the cells so far (the CLI writes a partial report.json).
 */
export async function runMatrix(
  spec: MatrixSpec,
  onRun?: (done: number, total: number, label: string) => void,
  onCell?: (cells: Cell[]) => void,
): Promise<MatrixResult> {
  const cells: Cell[] = []
  const latencies: Record<string, number[]> = {}
  const combos: Array<[SimConfig['preset'], AdversaryName | 'none', number, number | null]> = []
  for (const p of spec.presets)
    for (const a of spec.adversaries) for (const s of a === 'none' ? [0] : spec.shares) for (const f of spec.fees) combos.push([p, a, s, f])
  const total = combos.length * spec.seeds.length
  let done = 0
  const t0 = performance.now()
  for (const [preset, adversary, share, fee] of combos) {
    const runs: RunResult[] = []
    for (const seed of spec.seeds) {
      const over: Partial<SimConfig> = { ...spec.base, preset, adversary, share, seed, params: { ...spec.base.params } }
      if (fee !== null) over.fees = [{ fee, weight: 1 }]
      const r = await run(over)
      runs.push(r)
      if (adversary === 'none' && !latencies[preset]) latencies[preset] = r.latencies
      onRun?.(++done, total, `${preset} ${adversary} ${share ? `${share * 100}%` : ''} ${fee ?? 'mix'} seed ${seed}`)
    }
    cells.push(cellOf(preset, adversary, share, fee, runs))
    onCell?.(cells)
  }
  return { cells, latencies, wallMs: performance.now() - t0, runs: total }
}

const fmt = (e: Estimate | undefined, d = 2) => (e ? (e.n > 1 ? `${e.mean.toFixed(d)} [${e.lo.toFixed(d)}, ${e.hi.toFixed(d)}]` : e.mean.toFixed(d)) : '–')

/** A verdict in a few characters: pays, no, or ≈ with the mean's sign when the twin cannot tell; † when honest nodes were slashed. */
function shortVerdict(c: Cell): string {
  const e = c.adversary === 'none' ? c.profitPerTask : (c.excessPerTask ?? c.profitPerTask)
  const v = c.verdict === 'pays' ? 'pays' : c.verdict === 'does not pay' ? 'no' : e.mean >= 0 ? '≈+' : '≈−'
  return c.honestSlashes.mean > 0 ? `${v}†` : v
}

/**
 * The verdicts at a glance, one table per preset: a row per strategy, a column per attacker share, each cell the
 * verdicts at every fee in order ("pays / no / ≈+ / ≈−"). The honest baseline has one share: its row is repeated.
 */
export function verdictGrid(cells: Cell[]): string[] {
  const lines: string[] = []
  const presets = [...new Set(cells.map((c) => c.preset))]
  const fees = [...new Set(cells.map((c) => c.fee))]
  const shares = [...new Set(cells.filter((c) => c.adversary !== 'none').map((c) => c.share))]
  const feeText = fees.map((f) => f ?? 'mix').join(' / ')
  for (const p of presets) {
    lines.push(`**${p}** (fees ${feeText} BERYL in each column)`, '')
    const cols = shares.length ? shares : [0]
    lines.push(`| strategy | ${cols.map((s) => `${Math.round(s * 100)}%`).join(' | ')} |`, `|---|${cols.map(() => '---|').join('')}`)
    for (const a of [...new Set(cells.filter((c) => c.preset === p).map((c) => c.adversary))]) {
      const row = cols.map((s) =>
        fees
          .map((f) => {
            const c = cells.find((x) => x.preset === p && x.adversary === a && x.fee === f && (a === 'none' || x.share === s))
            return c ? shortVerdict(c) : '–'
          })
          .join(' / '),
      )
      lines.push(`| ${a === 'none' ? 'none (honest work)' : a} | ${row.join(' | ')} |`)
    }
    lines.push('')
  }
  return lines
}

/** report.md: the verdicts at a glance, the results table (strategy × preset → profit with interval and verdict) and the measures beside it. */
export function markdown(m: MatrixResult, title: string, charts: string[]): string {
  const lines = [`# ${title}`, '']
  lines.push(
    'Profit is BERYL per task the strategy ran (node strategies) or created (application strategies), all costs counted (compute at the run’s compute-cost share of the fee, tx fees, slashed stake). ' +
      '"Excess" is what the strategy earns over the same capital doing honest work, per task: (its profit − its capital × the honest nodes’ profit per BERYL of capital in the same run) / its tasks, where its capital is every stake, purse and budget it was funded with (a slashed identity re-funded counts again). ' +
      'Intervals are 95% across seeds. Verdict for a strategy: pays if the interval of the excess is above 0 (the strategy earns more than its capital would doing honest work), does not pay if below, break-even if it holds 0 (the twin cannot tell at that many seeds). ' +
      'For the honest baseline ("none") the verdict is on its own profit: whether honest work pays at all.',
    '',
  )
  lines.push(
    '## Verdicts at a glance',
    '',
    '"pays" / "no" = the interval is above / below 0; "≈+" / "≈−" = it holds 0 (the sign is the mean’s); † = honest nodes were slashed in that cell.',
    '',
    ...verdictGrid(m.cells),
    '## Every cell',
    '',
  )
  lines.push('| preset | strategy | share | fee | profit/task | excess/task | verdict | honest slashed | latency p50/p95 (blocks) | attempts |')
  lines.push('|---|---|---|---|---|---|---|---|---|---|')
  for (const c of m.cells) {
    const att = Object.entries(c.attempts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')
    lines.push(
      `| ${c.preset} | ${c.adversary} | ${c.adversary === 'none' ? '–' : `${Math.round(c.share * 100)}%`} | ${c.fee ?? 'mix'} | ${fmt(c.profitPerTask)} | ${fmt(c.excessPerTask)} | ${c.verdict} | ${fmt(c.honestSlashes, 1)} | ${c.latencyP50.mean.toFixed(0)}/${c.latencyP95.mean.toFixed(0)} | ${att} |`,
    )
  }
  const cf = m.cells.filter((c) => c.closedForm)
  if (cf.length) {
    lines.push(
      '',
      '## The plain Sybil against the closed form',
      '',
      'E = (1−r)k + r(gk − (1−q)s) per attacked T1, beside the simulated mean of the same accounting (payments into the attacked groups minus stake slashed there). g is the fees a captured sampled task pays the ring: q where a group shares one fee (split_group_fee, the crynux preset), q + 2(d−1)/(n−1) where every matching run is paid its own (docs/decisions/0025).',
      '',
    )
    lines.push('| preset | share | fee | attacked T1s | simulated (95%) | closed form | agrees |', '|---|---|---|---|---|---|---|')
    for (const c of cf) {
      const s = c.closedForm!
      lines.push(
        `| ${c.preset} | ${Math.round(c.share * 100)}% | ${c.fee ?? 'mix'} | ${s.tasks} | ${fmt(s.simulated)} | ${s.expected.toFixed(2)} | ${s.simulated.lo <= s.expected && s.expected <= s.simulated.hi ? 'yes' : 'no'} |`,
      )
    }
  }
  if (charts.length) lines.push('', '## Charts', '', ...charts.map((c) => `![${c}](${c})`))
  lines.push('', `${m.runs} runs in ${(m.wallMs / 1000).toFixed(0)} s.`, '')
  return lines.join('\n')
}

/** The deterministic part of a matrix (no wall-clock times): report.json. */
export function reportJson(m: MatrixResult, spec: MatrixSpec): string {
  return JSON.stringify({ spec: { ...spec, base: spec.base }, cells: m.cells }, null, 2) + '\n'
}

export function writeReport(dir: string, files: Record<string, string | Buffer>): void {
  fs.mkdirSync(dir, { recursive: true })
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content)
}
