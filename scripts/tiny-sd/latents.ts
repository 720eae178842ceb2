// The initial latents Beryl's image runner draws for a task seed (worker/runners/image.ts: one HashStream per task,
// image 0 takes the first channels·h·w values, stored as float32), printed as JSON for scripts/tiny-sd/export.py,
// which gives them to diffusers' pipeline so that its image and Beryl's can be compared pixel for pixel.
// usage: node --import tsx scripts/tiny-sd/latents.ts <seed> <channels> <latent height> <latent width>
import { HashStream } from '../../worker/models/prng.ts'

const [seed, channels, h, w] = process.argv.slice(2).map(Number) as [number, number, number, number]
const noise = new HashStream('beryl/image-task/latents/v1', seed)
const lat = new Float32Array(channels * h * w)
for (let j = 0; j < lat.length; j++) lat[j] = noise.gaussian()
process.stdout.write(JSON.stringify({ seed, shape: [1, channels, h, w], values: Array.from(lat) }))
