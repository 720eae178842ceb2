import type { AdversaryName } from './agents/index.ts'
import { cellOf, type Cell } from './report.ts'
import { run, type SimConfig } from './scenario.ts'

/**
 * Short names for the parameters a sweep usually varies, with the unit a person types. Anything
 * else is given as module.param in the chain's own units.
 */
export const SWEEP_ALIASES: Record<string, { param: string; scale: (v: string) => string; what: string }> = {
  stake: { param: 'staking.min_stake', scale: (v) => String(Math.round(Number(v) * 1e6)), what: 'minimum node stake, BERYL' },
  floor: { param: 'vss.min_sampling_rate', scale: frac, what: 'sampling floor r_min, fraction' },
  'assumed-share': { param: 'vss.assumed_dishonest_share', scale: frac, what: 'assumed dishonest share behind the rate, fraction' },
  slash: { param: 'staking.slash_fraction_ppm', scale: (v) => String(Math.round(Number(v) * 1e6)), what: 'slash fraction, fraction of the stake' },
  'min-eligible': { param: 'task.min_eligible_nodes', scale: (v) => v, what: 'min eligible nodes per task' },
  queue: { param: 'task.max_queued_tasks', scale: (v) => v, what: 'queue bound, tasks' },
  'validation-timeout': { param: 'task.creator_validation_timeout', scale: (v) => v, what: 'creator validation timeout, s (the reveal window after issue 10)' },
  'answer-hold': {
    param: 'task.answer_hold',
    scale: (v) => v,
    what: "answer hold, s (how long a committed answer waiting for its creator counts against the node's stake)",
  },
  'fixed-rate': { param: 'sim.fixedSamplingRate', scale: (v) => v, what: "Crynux's fixed sampling rate, fraction (0 = adaptive)" },
}
function frac(v: string): string {
  return (BigInt(Math.round(Number(v) * 1e9)) * 10n ** 9n).toString()
}

export interface SweepSpec {
  /** name=v1,v2,… (an alias above, or module.param). */
  x: { name: string; values: string[] }
  y?: { name: string; values: string[] }
  adversary: AdversaryName
  share: number
  fee: number
  seeds: string[]
  base: Partial<SimConfig>
}

export interface SweepPoint {
  x: string
  y: string
  cell: Cell
}

function apply(over: Partial<SimConfig>, name: string, value: string): void {
  const a = SWEEP_ALIASES[name]
  const param = a ? a.param : name
  const v = a ? a.scale(value) : value
  if (param.startsWith('sim.')) (over as Record<string, unknown>)[param.slice(4)] = Number(v)
  else over.params = { ...over.params, [param]: v }
}

/** Runs the grid: every (x, y) over every seed, the adversary at one share and fee. */
export async function sweep(spec: SweepSpec, onRun?: (done: number, total: number, what: string) => void): Promise<SweepPoint[]> {
  const ys = spec.y ? spec.y.values : ['']
  const total = spec.x.values.length * ys.length * spec.seeds.length
  let done = 0
  const out: SweepPoint[] = []
  for (const y of ys)
    for (const x of spec.x.values) {
      const runs = []
      for (const seed of spec.seeds) {
        const over: Partial<SimConfig> = {
          ...spec.base,
          adversary: spec.adversary,
          share: spec.share,
          fees: [{ fee: spec.fee, weight: 1 }],
          seed,
          params: { ...spec.base.params },
        }
        apply(over, spec.x.name, x)
        if (spec.y) apply(over, spec.y.name, y)
        runs.push(await run(over))
        onRun?.(++done, total, `${spec.x.name}=${x}${spec.y ? ` ${spec.y.name}=${y}` : ''} seed ${seed}`)
      }
      out.push({ x, y, cell: cellOf(spec.base.preset ?? 'beryl', spec.adversary, spec.share, spec.fee, runs) })
    }
  return out
}
