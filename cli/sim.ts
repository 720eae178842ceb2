import fs from 'node:fs'
import path from 'node:path'
import type { Command } from 'commander'
import { parse as parseToml } from 'smol-toml'
import {
  ADVERSARIES,
  ADVERSARY_NAMES,
  DEFAULTS,
  SWEEP_ALIASES,
  heatmap,
  latencyHistogram,
  markdown,
  profitVsFee,
  profitVsShare,
  progressBar,
  render,
  reportJson,
  runMatrix,
  sweep,
  writeReport,
  type AdversaryName,
  type MatrixResult,
  type MatrixSpec,
  type SimConfig,
} from '../sim/index.ts'

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
const collect = (v: string, prev: string[]) => [...prev, v]

interface SimFlags {
  preset?: string
  adversary: string
  share: string
  fee: string
  seed: string
  seeds: string
  nodes?: string
  tasks?: string
  set: string[]
  config?: string
  out: string
  output: string
  fastVrf?: boolean
  charts: boolean
  progress: boolean
}

/** The run's base config: the TOML file's [sim] and [params] tables, then --nodes/--tasks/--set. */
function baseConfig(f: SimFlags): Partial<SimConfig> {
  const base: Partial<SimConfig> & { params: Record<string, string> } = { params: {} }
  if (f.config) {
    const t = parseToml(fs.readFileSync(f.config, 'utf8')) as { sim?: Record<string, unknown>; params?: Record<string, Record<string, unknown>> }
    Object.assign(base, t.sim ?? {})
    for (const [mod, ps] of Object.entries(t.params ?? {})) for (const [k, v] of Object.entries(ps)) base.params[`${mod}.${k}`] = String(v)
  }
  if (f.nodes) base.nodes = Number(f.nodes)
  if (f.tasks) base.tasks = Number(f.tasks)
  if (f.fastVrf) base.vrf = 'fast'
  for (const kv of f.set) {
    const i = kv.indexOf('=')
    if (i < 0) throw new Error(`--set ${kv}: expected name=value`)
    const k = kv.slice(0, i),
      v = kv.slice(i + 1)
    if (k.startsWith('sim.')) {
      const key = k.slice(4) as keyof SimConfig
      if (!(key in DEFAULTS)) throw new Error(`--set ${k}: the twin has no knob ${key}; knobs: ${Object.keys(DEFAULTS).join(', ')}`)
      ;(base as Record<string, unknown>)[key] = typeof DEFAULTS[key] === 'number' ? Number(v) : typeof DEFAULTS[key] === 'boolean' ? v === 'true' : v
    } else base.params[k] = v
  }
  return base
}

function adversaries(s: string): Array<AdversaryName | 'none'> {
  if (s === 'all') return ['none', ...ADVERSARY_NAMES]
  const out = list(s) as Array<AdversaryName | 'none'>
  for (const a of out) if (a !== 'none' && !(a in ADVERSARIES)) throw new Error(`unknown strategy ${a}; strategies: ${ADVERSARY_NAMES.join(', ')}`)
  return out
}

const STRATEGY_HELP = ADVERSARY_NAMES.map((n) => `  ${n.padEnd(15)} ${ADVERSARIES[n].summary}`).join('\n')

/** `beryld sim` and `beryld sim sweep`: the digital twin (sim/README.md). */
export function registerSimCommands(program: Command): void {
  const sim = program
    .command('sim')
    .description('the digital twin: the real modules, block by block, against adversarial agents; reports which cheating strategies pay')
    // `sim` and `sim sweep` share flag names: each command's flags are its own.
    .enablePositionalOptions()
    .option('--preset <names>', 'beryl (the chain’s defaults), crynux (fixed 1% sampling, unbounded queue), or both', 'beryl,crynux')
    .option('--adversary <names>', 'strategies to run, comma-separated; "all" adds the honest baseline "none"', 'all')
    .option('--share <fractions>', 'attacker shares of the nodes, e.g. 0.05,0.1,0.33', '0.1')
    .option('--fee <beryl>', 'task fees in BERYL, comma-separated ("mix" for the default mix)', '1,5,50,400')
    .option('--seed <seed>', 'base seed: the same seed gives a byte-identical report.json', '1')
    .option('--seeds <n>', 'seeds per cell (the 95% intervals are across seeds)', '3')
    .option('--nodes <n>', `GPU nodes, honest and adversarial (default ${DEFAULTS.nodes})`)
    .option('--tasks <n>', `tasks of the honest applications per run (default ${DEFAULTS.tasks})`)
    .option(
      '--set <name=value>',
      'a chain parameter (module.param, e.g. task.min_eligible_nodes=5) or a twin knob (sim.utilisation=0.7); repeatable',
      collect,
      [],
    )
    .option('--config <file.toml>', 'a TOML file: [sim] knobs and [params.<module>] chain parameters')
    .option('--fast-vrf', 'replace ECVRF (14 ms a task) by a keyed hash of the same distribution: for large runs (sim/crypto.ts)')
    .option('--out <dir>', 'report folder: report.md, report.json, charts (PNG and SVG)', 'sim-report')
    .option('--output <format>', 'text (a summary) or json (report.json on stdout)', 'text')
    .option('--no-charts', 'skip the charts')
    .option('--no-progress', 'no progress bar on stderr')
    .addHelpText(
      'after',
      `
Each run builds a fresh chain (genesis → honest GPU nodes of the registry's classes, applications
with Poisson arrivals and a fee mix → the adversary) and runs Beryl's real modules block by block.
A cell of the table is a strategy × preset × attacker share × fee, run over --seeds seeds.

Strategies:
${STRATEGY_HELP}

Examples:
  beryld sim --adversary sybil,lazy --fee 5,50 --seeds 5
  beryld sim --preset crynux --adversary all --fee 50 --nodes 200 --tasks 5000 --fast-vrf
  beryld sim --set staking.min_stake=1000000000 --set sim.utilisation=0.8 --output json
  beryld sim sweep --vary stake=100,400,1600 --vary floor=0.01,0.05 --adversary sybil --fee 50`,
    )
    .action(async (f: SimFlags) => {
      const spec: MatrixSpec = {
        presets: list(f.preset ?? 'beryl,crynux') as MatrixSpec['presets'],
        adversaries: adversaries(f.adversary),
        shares: list(f.share).map(Number),
        fees: list(f.fee).map((x) => (x === 'mix' ? null : Number(x))),
        seeds: Array.from({ length: Number(f.seeds) }, (_, i) => `${f.seed}-${i}`),
        base: baseConfig(f),
      }
      for (const p of spec.presets) if (p !== 'beryl' && p !== 'crynux') throw new Error(`unknown preset ${p}: beryl or crynux`)
      const bar = progressBar('sim', f.progress && f.output !== 'json')
      // A long matrix leaves its cells so far in <out>/report.partial.json as it goes.
      const partial = (cells: MatrixResult['cells']) =>
        writeReport(f.out, { 'report.partial.json': reportJson({ cells, latencies: {}, wallMs: 0, runs: 0 }, spec) })
      const m = await runMatrix(spec, (d, t, what) => bar(d, t, what), partial)
      fs.rmSync(path.join(f.out, 'report.partial.json'), { force: true })
      const charts: string[] = []
      const files: Record<string, string | Buffer> = { 'report.json': reportJson(m, spec) }
      if (f.charts) {
        const feeShare = spec.shares[0]!
        const specs = {
          ...(spec.fees.filter((x) => x !== null).length > 1 ? { 'profit-vs-fee': profitVsFee(m.cells, feeShare) } : {}),
          ...(spec.shares.length > 1 ? { 'profit-vs-share': profitVsShare(m.cells, spec.fees.find((x) => x !== null) ?? 0) } : {}),
          ...(Object.keys(m.latencies).length ? { latency: latencyHistogram(m.latencies) } : {}),
        }
        for (const [name, s] of Object.entries(specs)) {
          const { svg, png } = await render(s)
          files[`${name}.svg`] = svg
          files[`${name}.png`] = png
          charts.push(`${name}.png`)
        }
      }
      files['report.md'] = markdown(m, 'What the twin shows', charts)
      writeReport(f.out, files)
      if (f.output === 'json') process.stdout.write(files['report.json'] as string)
      else {
        process.stdout.write(`${files['report.md']}\nreport: ${path.resolve(f.out)}\n`)
      }
    })

  sim
    .command('sweep')
    .description('vary one or two parameters and chart the attacker’s gain and the honest nodes’ profit over the grid')
    .requiredOption('--vary <name=v1,v2,…>', 'a parameter and its values (at most two --vary)', collect, [])
    .option('--adversary <name>', 'the strategy to sweep against', 'sybil')
    .option('--share <fraction>', 'attacker share of the nodes', '0.1')
    .option('--fee <beryl>', 'task fee in BERYL', '50')
    .option('--preset <name>', 'beryl or crynux', 'beryl')
    .option('--seed <seed>', 'base seed', '1')
    .option('--seeds <n>', 'seeds per point', '3')
    .option('--nodes <n>', 'GPU nodes')
    .option('--tasks <n>', 'tasks per run')
    .option('--set <name=value>', 'other parameters, as for `beryld sim`; repeatable', collect, [])
    .option('--config <file.toml>', 'a TOML file of knobs and parameters')
    .option('--fast-vrf', 'the fast VRF (see beryld sim --help)')
    .option('--out <dir>', 'report folder', 'sim-sweep')
    .option('--output <format>', 'text or json', 'text')
    .option('--no-progress', 'no progress bar')
    .addHelpText(
      'after',
      `\nParameters by short name (or any module.param in the chain's units):\n${Object.entries(SWEEP_ALIASES)
        .map(([k, a]) => `  ${k.padEnd(20)} ${a.param}: ${a.what}`)
        .join('\n')}\n`,
    )
    .action(async (f: SimFlags & { vary: string[] }) => {
      if (f.vary.length < 1 || f.vary.length > 2) throw new Error('give one or two --vary name=v1,v2,…')
      const axes = f.vary.map((v) => {
        const i = v.indexOf('=')
        if (i < 0) throw new Error(`--vary ${v}: expected name=v1,v2,…`)
        return { name: v.slice(0, i), values: list(v.slice(i + 1)) }
      })
      const adversary = f.adversary as AdversaryName
      if (!(adversary in ADVERSARIES)) throw new Error(`unknown strategy ${adversary}; strategies: ${ADVERSARY_NAMES.join(', ')}`)
      const base = { ...baseConfig(f), preset: f.preset as SimConfig['preset'] }
      const bar = progressBar('sweep', f.progress && f.output !== 'json')
      const points = await sweep(
        {
          x: axes[0]!,
          y: axes[1],
          adversary,
          share: Number(f.share),
          fee: Number(f.fee),
          seeds: Array.from({ length: Number(f.seeds) }, (_, i) => `${f.seed}-${i}`),
          base,
        },
        (d, t, what) => bar(d, t, what),
      )
      const json = JSON.stringify({ x: axes[0], y: axes[1] ?? null, adversary, share: Number(f.share), fee: Number(f.fee), points }, null, 2) + '\n'
      const files: Record<string, string | Buffer> = { 'sweep.json': json }
      const rows = (pick: (p: (typeof points)[number]) => number) => points.map((p) => ({ x: p.x, y: p.y, value: pick(p) }))
      for (const [name, measure, pick] of [
        ['gain', 'attacker gain per task over honest work (BERYL)', (p: (typeof points)[number]) => (p.cell.excessPerTask ?? p.cell.profitPerTask).mean],
        ['honest', 'honest profit per task (BERYL)', (p: (typeof points)[number]) => p.cell.honestProfitPerTask.mean],
      ] as const) {
        const { svg, png } = await render(heatmap(rows(pick), axes[0]!.name, axes[1]?.name ?? '', measure))
        files[`sweep-${name}.svg`] = svg
        files[`sweep-${name}.png`] = png
      }
      writeReport(f.out, files)
      if (f.output === 'json') process.stdout.write(json)
      else
        for (const p of points)
          process.stdout.write(
            `${axes[0]!.name}=${p.x}${axes[1] ? ` ${axes[1].name}=${p.y}` : ''}: gain/task ${(p.cell.excessPerTask ?? p.cell.profitPerTask).mean.toFixed(3)} (${p.cell.verdict}), honest profit/task ${p.cell.honestProfitPerTask.mean.toFixed(3)}\n`,
          )
    })
}
