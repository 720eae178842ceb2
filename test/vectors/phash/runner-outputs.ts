// Writes real outputs of the bundled image model into images/ (runner_*.png), so the pHash vectors
// cover what workers actually produce. Deterministic: the same files on every run.
// Usage: node --import tsx test/vectors/phash/runner-outputs.ts <images-dir>
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ensureBundledModels } from '../../../worker/models/store.ts'
import { runImageTask } from '../../../worker/runners/index.ts'

const out = process.argv[2] ?? path.join(path.dirname(new URL(import.meta.url).pathname), 'images')
const models = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-models-'))
await ensureBundledModels(models)
const cases = [
  { prompt: 'a lighthouse at dusk', width: 256, height: 256, steps: 20, seed: 1 },
  { prompt: 'a lighthouse at dusk', width: 256, height: 256, steps: 20, seed: 2 },
  { prompt: 'a red bicycle in the rain', width: 256, height: 256, steps: 20, seed: 1 },
  { prompt: 'a red bicycle in the rain', width: 256, height: 256, steps: 50, seed: 1 },
  { prompt: 'mountains', width: 512, height: 512, steps: 10, seed: 7 },
  { prompt: 'mountains', width: 512, height: 256, steps: 10, seed: 7 },
  { prompt: 'a cat', width: 64, height: 64, steps: 5, seed: 3 },
  { prompt: 'a cat', width: 128, height: 320, steps: 15, seed: 3, negative_prompt: 'dog' },
  { prompt: 'city lights', width: 384, height: 192, steps: 25, seed: 11, guidance_scale: 3 },
  { prompt: 'city lights', width: 384, height: 192, steps: 25, seed: 11, guidance_scale: 12 },
]
let n = 0
for (const [i, c] of cases.entries()) {
  const r = await runImageTask({ ...c, num_images: 2 }, models)
  for (const [j, png] of r.images.entries()) {
    fs.writeFileSync(path.join(out, `runner_${String(i).padStart(2, '0')}_${j}_${c.width}x${c.height}.png`), png)
    n++
  }
}
fs.rmSync(models, { recursive: true, force: true })
console.log(`phash vectors: wrote ${n} runner outputs to ${out}`)
