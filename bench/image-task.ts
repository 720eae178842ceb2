// Image task wall time by steps and size, on one CPU thread (the runner's
// deterministic setting). Run: node --import tsx bench/image-task.ts [modelDir]
//
// The anchor is one UNet call at 256×256 (latent 32×32, batch 2 for
// classifier-free guidance), timed in the same run, so the ratios compare
// across machines: if steps dominate, time ≈ steps × per-step cost and the
// per-step column, divided by the anchor, stays near (size/256)².
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { bundledModel, componentPath } from '../worker/models/store.ts'
import { releaseSessions, runImageTask } from '../worker/runners/index.ts'
import { getSession } from '../worker/runners/session.ts'

const STEPS = [5, 20, 50]
const SIZES = [128, 256, 512]
const REPS = 3

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function time(fn: () => Promise<unknown>, reps: number): Promise<number> {
  const ts: number[] = []
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now()
    await fn()
    ts.push(performance.now() - t0)
  }
  return median(ts)
}

const own = process.argv[2] === undefined
const dir = process.argv[2] ?? (await mkdtemp(join(tmpdir(), 'beryl-bench-')))
try {
  const m = await bundledModel(dir, 'image')
  const { session: unet } = await getSession(componentPath(dir, m, 'unet'))
  const hidden = new ort.Tensor('float32', new Float32Array(2 * 77 * 32).fill(0.1), [2, 77, 32])
  const sample = new ort.Tensor('float32', new Float32Array(2 * 4 * 32 * 32).fill(0.5), [2, 4, 32, 32])
  const timestep = new ort.Tensor('int64', BigInt64Array.from([500n, 500n]), [2])
  const unetStep = () => unet.run({ sample, timestep, encoder_hidden_states: hidden })
  await time(unetStep, 5)
  const anchor = await time(unetStep, 31)

  const rows: string[] = []
  for (const size of SIZES) {
    const args = (steps: number) => ({ prompt: 'a lighthouse on a cliff at dusk', width: size, height: size, steps, seed: 1 })
    await runImageTask(args(2), dir) // warm-up: sessions, allocator, code paths
    const wall = new Map<number, number>()
    for (const steps of STEPS) wall.set(steps, await time(() => runImageTask(args(steps), dir), REPS))
    // Least-squares line wall = fixed + steps × perStep over the measured points.
    const xs = STEPS,
      ys = STEPS.map((s) => wall.get(s)!)
    const mx = xs.reduce((a, b) => a + b) / xs.length,
      my = ys.reduce((a, b) => a + b) / ys.length
    const perStep = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0)
    const fixed = my - perStep * mx
    for (const steps of STEPS) {
      const w = wall.get(steps)!
      rows.push(`| ${size}×${size} | ${steps} | ${w.toFixed(1)} | ${(w / anchor).toFixed(1)} | ${(w / steps).toFixed(2)} |`)
    }
    rows.push(
      `| ${size}×${size} | fit | fixed ${fixed.toFixed(1)} ms + ${perStep.toFixed(2)} ms/step | per step = ${(perStep / anchor).toFixed(2)} × anchor | |`,
    )
  }
  console.log(`image task, bundled model ${m.id.slice(0, 12)}…, CPU EP, intraOpNumThreads 1, median of ${REPS}`)
  console.log(`anchor: one UNet call at 256×256 (batch 2) = ${anchor.toFixed(2)} ms\n`)
  console.log('| size | steps | wall ms | wall / anchor | ms per step |')
  console.log('|---|---|---|---|---|')
  for (const r of rows) console.log(r)
} finally {
  await releaseSessions()
  if (own) await rm(dir, { recursive: true, force: true })
}
