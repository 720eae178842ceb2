import { type GpuClass, Params } from '../../proto/gen/beryl/staking/v1/types.ts'
import { UBERYL_PER_BERYL, parseAmount } from '../common/amounts.ts'
import { StakingErrors } from './errors.ts'

/**
 * The default GPU registry: common cards with their VRAM as nvidia-smi reports them, and the CPU profile the worker
 * declares when it finds no GPU. A registry name fixes the VRAM, so a node cannot claim a class of its own
 * (a unique name, or an odd VRAM) and be the only node that can run a task.
 */
export const DEFAULT_GPU_CLASSES: GpuClass[] = [
  { name: 'CPU', vramGb: 8 },
  { name: 'NVIDIA GeForce RTX 3060', vramGb: 12 },
  { name: 'NVIDIA GeForce RTX 3080', vramGb: 10 },
  { name: 'NVIDIA GeForce RTX 3090', vramGb: 24 },
  { name: 'NVIDIA GeForce RTX 4060 Ti', vramGb: 16 },
  { name: 'NVIDIA GeForce RTX 4070', vramGb: 12 },
  { name: 'NVIDIA GeForce RTX 4080', vramGb: 16 },
  { name: 'NVIDIA GeForce RTX 4090', vramGb: 24 },
  { name: 'NVIDIA GeForce RTX 5090', vramGb: 32 },
  { name: 'NVIDIA L4', vramGb: 24 },
  { name: 'NVIDIA A100-SXM4-80GB', vramGb: 80 },
  { name: 'NVIDIA H100 80GB HBM3', vramGb: 80 },
]

export const DEFAULT_PARAMS: Params = {
  minStake: (400n * UBERYL_PER_BERYL).toString(),
  maxStake: (4000n * UBERYL_PER_BERYL).toString(),
  unbondingPeriod: 1800n,
  slashFractionPpm: 1_000_000,
  gpuClasses: DEFAULT_GPU_CLASSES,
  rejoinCooldown: 604_800n,
}

/** The registry class named `name`, if any. */
export function gpuClass(p: Params, name: string): GpuClass | undefined {
  return p.gpuClasses.find((c) => c.name === name)
}

/** Genesis checks: amounts are positive uberyl, the period not negative, the fraction at most 100%. */
export function validateParams(p: Params): void {
  parseAmount(p.minStake, 'staking.params.min_stake', StakingErrors.InvalidAmount)
  parseAmount(p.maxStake, 'staking.params.max_stake', StakingErrors.InvalidAmount)
  if (p.unbondingPeriod < 0n) throw new Error('staking.params.unbonding_period must not be negative')
  if (p.slashFractionPpm > 1_000_000) throw new Error('staking.params.slash_fraction_ppm must be at most 1000000')
  if (p.rejoinCooldown < 0n) throw new Error('staking.params.rejoin_cooldown must not be negative')
  if (p.gpuClasses.length === 0 || p.gpuClasses.length > 256) throw new Error('staking.params.gpu_classes must list 1..256 classes')
  const names = new Set<string>()
  for (const c of p.gpuClasses) {
    if (!c.name || c.name.length > 128 || /[\u0000-\u001f]/.test(c.name)) throw new Error(`staking.params.gpu_classes: invalid name ${JSON.stringify(c.name)}`)
    if (names.has(c.name)) throw new Error(`staking.params.gpu_classes: ${JSON.stringify(c.name)} is listed twice`)
    names.add(c.name)
    if (!Number.isInteger(c.vramGb) || c.vramGb < 1 || c.vramGb > 4096) throw new Error(`staking.params.gpu_classes: ${c.name} needs vram_gb 1..4096`)
  }
}
