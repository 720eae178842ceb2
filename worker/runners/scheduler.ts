// DDIM sampling (deterministic, η = 0) in TypeScript, configured the way
// Stable Diffusion v1.x ships it: scaled-linear betas, "leading" timestep
// spacing with steps_offset = 1, and set_alpha_to_one = false.
//
// Arithmetic is float64 in JS and only the latents are stored as float32,
// so the trajectory is identical on every machine for identical UNet outputs.
import { type NoiseScheduleConfig, alphasCumprod } from '../models/schedule.ts'

export interface DdimConfig extends NoiseScheduleConfig {
  type: 'ddim'
  timestep_spacing: 'leading' | 'trailing'
  steps_offset: number
  set_alpha_to_one: boolean
  prediction_type: 'epsilon' | 'v_prediction'
}

export function parseSchedulerConfig(c: unknown): DdimConfig {
  const o = (c ?? {}) as Partial<DdimConfig>
  if (o.type !== 'ddim') throw new Error(`scheduler type ${JSON.stringify(o.type)} is not supported (this runner implements "ddim")`)
  const need = <K extends keyof DdimConfig>(k: K, ok: (v: unknown) => boolean): DdimConfig[K] => {
    if (!ok(o[k])) throw new Error(`scheduler config: bad or missing ${k}`)
    return o[k] as DdimConfig[K]
  }
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v)
  return {
    type: 'ddim',
    num_train_timesteps: need('num_train_timesteps', (v) => Number.isInteger(v) && (v as number) >= 2),
    beta_start: need('beta_start', num),
    beta_end: need('beta_end', num),
    beta_schedule: need('beta_schedule', (v) => v === 'scaled_linear' || v === 'linear'),
    timestep_spacing: need('timestep_spacing', (v) => v === 'leading' || v === 'trailing'),
    steps_offset: need('steps_offset', (v) => Number.isInteger(v) && (v as number) >= 0),
    set_alpha_to_one: need('set_alpha_to_one', (v) => typeof v === 'boolean'),
    prediction_type: need('prediction_type', (v) => v === 'epsilon' || v === 'v_prediction'),
  }
}

/** numpy's round(): ties go to the even neighbour. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x)
  const d = x - f
  if (d > 0.5) return f + 1
  if (d < 0.5) return f
  return f % 2 === 0 ? f : f + 1
}

export class DdimScheduler {
  readonly alphas: Float64Array
  readonly timesteps: number[]
  private readonly prev: number[]
  private readonly finalAlpha: number

  constructor(
    readonly cfg: DdimConfig,
    steps: number,
  ) {
    const n = cfg.num_train_timesteps
    if (!Number.isInteger(steps) || steps < 1 || steps > n) throw new RangeError(`steps must be an integer in [1, ${n}]`)
    this.alphas = alphasCumprod(cfg)
    this.finalAlpha = cfg.set_alpha_to_one ? 1 : this.alphas[0]!
    const ts: number[] = []
    const ratio = Math.floor(n / steps)
    if (cfg.timestep_spacing === 'leading') {
      for (let i = steps - 1; i >= 0; i--) ts.push(i * ratio + cfg.steps_offset)
    } else {
      for (let i = steps; i >= 1; i--) ts.push(roundHalfEven((i * n) / steps) - 1)
    }
    // As diffusers' DDIM does for every spacing: the previous timestep is
    // t − ⌊N/steps⌋, not necessarily the next entry of the list.
    this.prev = ts.map((t) => t - ratio)
    for (const t of ts) if (t < 0 || t >= n) throw new RangeError(`timestep ${t} outside the training range; check steps_offset`)
    this.timesteps = ts
  }

  /** One step from timesteps[i]: returns the sample for the next (less noisy) timestep. */
  step(i: number, modelOutput: Float32Array | Float64Array, sample: Float32Array): Float32Array {
    const t = this.timesteps[i]!
    const pt = this.prev[i]!
    const a = this.alphas[t]!
    const ap = pt >= 0 ? this.alphas[pt]! : this.finalAlpha
    const sa = Math.sqrt(a),
      sb = Math.sqrt(1 - a)
    const sap = Math.sqrt(ap),
      sbp = Math.sqrt(1 - ap)
    const out = new Float32Array(sample.length)
    const v = this.cfg.prediction_type === 'v_prediction'
    for (let j = 0; j < sample.length; j++) {
      const x = sample[j]!,
        m = modelOutput[j]!
      const x0 = v ? sa * x - sb * m : (x - sb * m) / sa
      const eps = v ? sa * m + sb * x : m
      out[j] = sap * x0 + sbp * eps
    }
    return out
  }
}
