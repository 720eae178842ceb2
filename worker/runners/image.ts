// Text-to-image with Stable Diffusion's structure:
//   tokenizer → text_encoder → N × (unet + DDIM step, with classifier-free
//   guidance) → vae_decoder → uint8 RGB → PNG.
// The ONNX components are addressed by the manifest's `components` and fed by
// the I/O names of the common SD ONNX exports, so an exported SD model with a
// manifest drops in (given a tokenizer it can use; see README.md).
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import sharp from 'sharp'
import { HashStream } from '../models/prng.ts'
import { componentPath, modelFolder } from '../models/store.ts'
import { resolveModel } from './resolve.ts'
import { DdimScheduler, parseSchedulerConfig } from './scheduler.ts'
import { type ImageArgs, validateImageArgs } from '../../modules/task/schema.ts'
import { type RunnerOptions, getSession, inputRank, intTensor, outputTensor } from './session.ts'
import { ClipBpe, type ClipTokenizerConfig } from './tokenizers/clip-bpe.ts'

export interface ImageTaskResult {
  /** PNG files, in image index order (0.png … n−1.png). */
  images: Uint8Array[]
  model: string
  provider: 'cpu' | 'cuda'
  args: ImageArgs
}

interface WordHashTokenizerConfig {
  type: 'beryl-word-hash-v1'
  vocab_size: number
  max_length: number
  bos: number
  eos: number
  pad: number
}

/**
 * A prompt tokenizer: text → the text encoder's input ids (already padded or
 * truncated to its sequence length). `config` is the manifest's
 * `config.tokenizer`; `modelFolder` is where a tokenizer keeps its files
 * (e.g. a CLIP BPE tokenizer's vocab.json and merges.txt, listed in the
 * manifest's files so they are part of the model id).
 */
export type ImageTokenizer = (text: string, config: Record<string, unknown>, modelFolder: string) => number[]

const tokenizers = new Map<string, ImageTokenizer>()

/** Makes a tokenizer type usable by image models whose manifest names it. */
export function registerImageTokenizer(type: string, fn: ImageTokenizer): void {
  tokenizers.set(type, fn)
}

function tokenizerFor(c: unknown): { fn: ImageTokenizer; config: Record<string, unknown> } {
  const config = (c ?? {}) as Record<string, unknown>
  const fn = tokenizers.get(String(config.type))
  if (!fn) {
    throw new Error(
      `image tokenizer ${JSON.stringify(config.type)} is not available (registered: ${[...tokenizers.keys()].join(', ')}; a diffusers export added with "beryld worker models add <folder>" uses clip-bpe)`,
    )
  }
  return { fn, config }
}

function parseWordHashConfig(c: Record<string, unknown>): WordHashTokenizerConfig {
  for (const k of ['vocab_size', 'max_length', 'bos', 'eos', 'pad'] as const) {
    if (!Number.isInteger(c[k]) || (c[k] as number) < 0) throw new Error(`tokenizer config: bad ${k}`)
  }
  return c as unknown as WordHashTokenizerConfig
}

/**
 * Words are runs of ASCII letters/digits or of non-ASCII characters; other
 * ASCII characters stand alone; ASCII whitespace separates. Only ASCII is
 * case-folded. The rules avoid Unicode tables on purpose: those change with
 * ICU versions, and two nodes on different Node releases must agree.
 */
export function splitWords(text: string): string[] {
  const out: string[] = []
  let cur = ''
  let curClass = 0 // 1 = ASCII alnum, 2 = non-ASCII
  const flush = () => {
    if (cur) out.push(cur)
    cur = ''
    curClass = 0
  }
  for (const ch of text) {
    const c = ch.codePointAt(0)!
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c) {
      flush()
      continue
    }
    const cls = c >= 0x80 ? 2 : (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ? 1 : 0
    const lc = c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 32) : ch
    if (cls === 0) {
      flush()
      out.push(lc)
      continue
    }
    if (cls !== curClass) flush()
    cur += lc
    curClass = cls
  }
  flush()
  return out
}

/**
 * Each word hashes (SHA-256) to one of the ids below BOS; the sequence is
 * BOS, words, EOS, then padding to max_length, truncated like CLIP's.
 */
export function tokenizeWordHash(text: string, cfg: Omit<WordHashTokenizerConfig, 'type'> & { type: string }): number[] {
  const buckets = Math.min(cfg.bos, cfg.eos, cfg.pad)
  const ids = [cfg.bos]
  for (const w of splitWords(text)) {
    if (ids.length >= cfg.max_length - 1) break
    ids.push(createHash('sha256').update(`${cfg.type}\0${w}`).digest().readUInt32LE(0) % buckets)
  }
  ids.push(cfg.eos)
  while (ids.length < cfg.max_length) ids.push(cfg.pad)
  return ids
}

registerImageTokenizer('beryl-word-hash-v1', (text, config) => tokenizeWordHash(text, parseWordHashConfig(config)))

// CLIP's BPE, for Stable Diffusion exports (tokenizer/vocab.json and merges.txt in the model folder, which are
// listed in its files and so part of its id). Loaded once per model folder.
const clipTokenizers = new Map<string, ClipBpe>()
registerImageTokenizer('clip-bpe', (text, config, folder) => {
  const c = config as unknown as ClipTokenizerConfig
  let t = clipTokenizers.get(folder)
  if (!t) {
    t = new ClipBpe(JSON.parse(readFileSync(join(folder, c.vocab), 'utf8')) as Record<string, number>, readFileSync(join(folder, c.merges), 'utf8'))
    clipTokenizers.set(folder, t)
  }
  return t.prompt(text, c)
})

function toRgbPng(data: Float32Array, width: number, height: number): Promise<Buffer> {
  // NCHW in [−1, 1] → interleaved uint8: (x/2 + 0.5) clamped, ×255, rounded (diffusers' postprocessing).
  const plane = width * height
  const rgb = Buffer.alloc(plane * 3)
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = data[c * plane + i]! / 2 + 0.5
      rgb[i * 3 + c] = Math.round((v < 0 ? 0 : v > 1 ? 1 : v) * 255)
    }
  }
  // Fixed encoder settings; sharp writes no timestamps or other metadata by default.
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 6, adaptiveFiltering: false, palette: false, progressive: false })
    .toBuffer()
}

export async function runImageTask(args: unknown, modelDir: string, opts: RunnerOptions & { model?: string } = {}): Promise<ImageTaskResult> {
  const a = validateImageArgs(args)
  const m = await resolveModel(modelDir, opts.model ?? a.model, 'image')
  const tok = tokenizerFor(m.config.tokenizer)
  const sched = parseSchedulerConfig(m.config.scheduler)
  const latentCfg = (m.config.latent ?? {}) as { channels?: number; downsample?: number; scaling_factor?: number }
  const channels = latentCfg.channels ?? 4
  const down = latentCfg.downsample ?? 8
  const scale = latentCfg.scaling_factor ?? 0.18215
  if (a.width % down || a.height % down) throw new Error(`width and height must be multiples of ${down} for this model`)

  const te = await getSession(componentPath(modelDir, m, 'text_encoder'), opts)
  const unet = await getSession(componentPath(modelDir, m, 'unet'), opts)
  const vae = await getSession(componentPath(modelDir, m, 'vae_decoder'), opts)
  const provider = [te, unet, vae].every((s) => s.provider === 'cuda') ? 'cuda' : 'cpu'

  const encode = async (text: string): Promise<ort.Tensor> => {
    const ids = tok.fn(text, tok.config, modelFolder(modelDir, m.id))
    const out = await te.session.run({ input_ids: intTensor(te.session, 'input_ids', ids, [1, ids.length]) })
    return outputTensor(out, te.session, 'last_hidden_state')
  }
  // Guidance ≤ 1 skips the unconditional branch, as diffusers does.
  const cfgOn = a.guidance_scale > 1
  const cond = await encode(a.prompt)
  let hidden = cond
  if (cfgOn) {
    const uncond = await encode(a.negative_prompt)
    const both = new Float32Array(uncond.data.length * 2)
    both.set(uncond.data as Float32Array, 0)
    both.set(cond.data as Float32Array, uncond.data.length)
    hidden = new ort.Tensor('float32', both, [2, ...cond.dims.slice(1)])
  }
  const batch = cfgOn ? 2 : 1

  const lh = a.height / down,
    lw = a.width / down
  const n = channels * lh * lw
  const scheduler = new DdimScheduler(sched, a.steps)
  const scalarStep = inputRank(unet.session, 'timestep') === 0
  // One noise stream per task; image i takes the i-th block of n values, so
  // image i is the same whatever num_images is.
  const noise = new HashStream('beryl/image-task/latents/v1', a.seed)
  const images: Uint8Array[] = []
  for (let img = 0; img < a.num_images; img++) {
    let lat: Float32Array = new Float32Array(n)
    for (let j = 0; j < n; j++) lat[j] = noise.gaussian() // DDIM's init_noise_sigma is 1
    for (let i = 0; i < scheduler.timesteps.length; i++) {
      const t = scheduler.timesteps[i]!
      const input = new Float32Array(n * batch)
      for (let b = 0; b < batch; b++) input.set(lat, b * n)
      const out = await unet.session.run({
        sample: new ort.Tensor('float32', input, [batch, channels, lh, lw]),
        // One timestep per batch row, or a scalar where the export declares one (Optimum's UNet export does).
        timestep: scalarStep ? intTensor(unet.session, 'timestep', [t], []) : intTensor(unet.session, 'timestep', new Array(batch).fill(t), [batch]),
        encoder_hidden_states: hidden,
      })
      const pred = outputTensor(out, unet.session, 'out_sample').data as Float32Array
      let eps: Float32Array | Float64Array = pred
      if (cfgOn) {
        const g = new Float64Array(n)
        for (let j = 0; j < n; j++) {
          const u = pred[j]!,
            c = pred[n + j]!
          g[j] = u + a.guidance_scale * (c - u)
        }
        eps = g
      }
      lat = scheduler.step(i, eps, lat)
    }
    const z = new Float32Array(n)
    for (let j = 0; j < n; j++) z[j] = lat[j]! / scale
    const dec = await vae.session.run({ latent_sample: new ort.Tensor('float32', z, [1, channels, lh, lw]) })
    const px = outputTensor(dec, vae.session, 'sample')
    const [, c3, H, W] = px.dims as number[]
    if (c3 !== 3 || H !== a.height || W !== a.width) throw new Error(`vae_decoder returned [${px.dims}], expected [1,3,${a.height},${a.width}]`)
    images.push(new Uint8Array(await toRgbPng(px.data as Float32Array, a.width, a.height)))
  }
  return { images, model: m.id, provider, args: a }
}
