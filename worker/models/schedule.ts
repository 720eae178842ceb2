// The diffusion training noise schedule. It lives with the models because it
// is a property of how a UNet was trained: the TS scheduler in the image runner
// must use the same table the network expects, and the bundled tiny UNet bakes
// this very table into its graph.

export interface NoiseScheduleConfig {
  num_train_timesteps: number
  beta_start: number
  beta_end: number
  beta_schedule: 'scaled_linear' | 'linear'
}

/** Stable Diffusion v1/v2's training schedule. */
export const SD_NOISE_SCHEDULE: NoiseScheduleConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
}

/**
 * ᾱ_t = Π_{s≤t} (1 − β_s), in float64. "scaled_linear" is linear in √β, as in
 * the SD training code. Only +, −, ×, ÷ and √ are used, so the table is the
 * same on every machine.
 */
export function alphasCumprod(cfg: NoiseScheduleConfig): Float64Array {
  const n = cfg.num_train_timesteps
  if (!Number.isInteger(n) || n < 2) throw new RangeError('num_train_timesteps must be an integer ≥ 2')
  const out = new Float64Array(n)
  let acc = 1
  for (let i = 0; i < n; i++) {
    let beta: number
    if (cfg.beta_schedule === 'scaled_linear') {
      const s0 = Math.sqrt(cfg.beta_start)
      const s1 = Math.sqrt(cfg.beta_end)
      const s = s0 + ((s1 - s0) * i) / (n - 1)
      beta = s * s
    } else {
      beta = cfg.beta_start + ((cfg.beta_end - cfg.beta_start) * i) / (n - 1)
    }
    acc *= 1 - beta
    out[i] = acc
  }
  return out
}
