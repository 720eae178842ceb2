// Stable Diffusion ONNX exports in diffusers' folder layout, as written by diffusers' and Optimum's ONNX exporters:
//
//   model_index.json                         the pipeline (an ONNX/ORT StableDiffusion pipeline class)
//   text_encoder/model.onnx                  CLIP text encoder
//   unet/model.onnx (+ external weights)     the denoiser
//   vae_decoder/model.onnx (+ config.json)   latents → pixels; config.json may carry scaling_factor, latent_channels
//                                            and block_out_channels (the downsampling factor is 2^(blocks − 1))
//   tokenizer/vocab.json, merges.txt         CLIP BPE (+ special_tokens_map.json / tokenizer_config.json: pad token, length)
//   scheduler/scheduler_config.json          the scheduler class and its noise schedule
//
// addDiffusersModel turns such a folder into a model folder: every file of the used components (so external weight
// files travel with their graph), the components, the I/O the ONNX files declare, and a config naming the CLIP
// tokenizer and the scheduler. Schedulers: DDIMScheduler; another class is refused unless `scheduler: 'ddim'` asks to
// sample its noise schedule with DDIM (as diffusers' `DDIMScheduler.from_config` does).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import * as ort from 'onnxruntime-node'
import type { IoSpec } from './build.ts'
import { type ModelManifest, addModel } from './store.ts'

const COMPONENTS = ['text_encoder', 'unet', 'vae_decoder'] as const

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`)
  }
}

function filesUnder(root: string, sub: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e)
      if (statSync(p).isDirectory()) walk(p)
      else out.push(relative(root, p).split('\\').join('/'))
    }
  }
  walk(join(root, sub))
  return out
}

const DTYPES: Record<string, IoSpec['dtype']> = { float32: 'float32', int32: 'int32', int64: 'int64' }

/** The inputs and outputs an ONNX file declares, read through onnxruntime. */
async function declaredIo(path: string): Promise<{ inputs: IoSpec[]; outputs: IoSpec[] }> {
  const s = await ort.InferenceSession.create(path, { logSeverityLevel: 3, graphOptimizationLevel: 'disabled' })
  try {
    const spec = (md: readonly ort.InferenceSession.ValueMetadata[]): IoSpec[] =>
      md.map((m) => {
        if (!m.isTensor) throw new Error(`${path}: ${m.name} is not a tensor`)
        const dtype = DTYPES[m.type]
        if (!dtype) throw new Error(`${path}: ${m.name} has type ${m.type}; float32, int32 and int64 are supported (fp16 exports are not yet)`)
        return { name: m.name, dtype, shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : String(d))) }
      })
    return { inputs: spec(s.inputMetadata), outputs: spec(s.outputMetadata) }
  } finally {
    await s.release()
  }
}

function tokenId(vocab: Record<string, number>, t: unknown, what: string): number {
  const text = typeof t === 'string' ? t : (t as { content?: string } | undefined)?.content
  if (typeof text !== 'string') throw new Error(`tokenizer: no ${what} token`)
  const id = vocab[text]
  if (id === undefined) throw new Error(`tokenizer: ${what} token ${JSON.stringify(text)} is not in vocab.json`)
  return id
}

/** The scheduler config a diffusers scheduler_config.json maps to (the runner implements DDIM). */
export function schedulerFromDiffusers(c: Record<string, unknown>, o: { scheduler?: 'ddim' } = {}): Record<string, unknown> {
  const cls = String(c._class_name ?? '')
  if (cls !== 'DDIMScheduler' && o.scheduler !== 'ddim') {
    throw new Error(
      `scheduler ${cls || '(unnamed)'} is not supported: the runner implements DDIMScheduler. Add with --scheduler ddim to sample this model's noise schedule with DDIM instead (as diffusers' DDIMScheduler.from_config does).`,
    )
  }
  const schedule = c.beta_schedule ?? 'linear'
  if (schedule !== 'scaled_linear' && schedule !== 'linear')
    throw new Error(`beta_schedule ${JSON.stringify(schedule)} is not supported (scaled_linear, linear)`)
  if (Array.isArray(c.trained_betas) && c.trained_betas.length) throw new Error('trained_betas are not supported')
  const spacing = c.timestep_spacing ?? 'leading'
  if (spacing !== 'leading' && spacing !== 'trailing') throw new Error(`timestep_spacing ${JSON.stringify(spacing)} is not supported (leading, trailing)`)
  const prediction = c.prediction_type ?? 'epsilon'
  if (prediction !== 'epsilon' && prediction !== 'v_prediction')
    throw new Error(`prediction_type ${JSON.stringify(prediction)} is not supported (epsilon, v_prediction)`)
  return {
    type: 'ddim',
    num_train_timesteps: c.num_train_timesteps ?? 1000,
    beta_start: c.beta_start ?? 0.0001,
    beta_end: c.beta_end ?? 0.02,
    beta_schedule: schedule,
    timestep_spacing: spacing,
    steps_offset: c.steps_offset ?? 0,
    // DDIM's own default is true; a config written for another scheduler class does not say.
    set_alpha_to_one: typeof c.set_alpha_to_one === 'boolean' ? c.set_alpha_to_one : cls === 'DDIMScheduler',
    prediction_type: prediction,
    ...(cls !== 'DDIMScheduler' ? { from: cls } : {}),
  }
}

export async function addDiffusersModel(dir: string, source: string, o: { name?: string; scheduler?: 'ddim' } = {}): Promise<ModelManifest> {
  const index = readJson(join(source, 'model_index.json'))
  const cls = String(index._class_name ?? '')
  if (!/StableDiffusion/.test(cls) || /XL|Img2Img|Inpaint|Upscale/.test(cls)) {
    throw new Error(`${source}: pipeline ${JSON.stringify(cls)} is not a text-to-image Stable Diffusion 1.x/2.x pipeline`)
  }
  for (const c of [...COMPONENTS, 'tokenizer', 'scheduler']) {
    if (!existsSync(join(source, c)))
      throw new Error(`${source}: no ${c}/ folder (a diffusers ONNX export has text_encoder/, unet/, vae_decoder/, tokenizer/, scheduler/)`)
  }
  for (const c of COMPONENTS) if (!existsSync(join(source, c, 'model.onnx'))) throw new Error(`${source}: no ${c}/model.onnx`)
  for (const f of ['vocab.json', 'merges.txt']) if (!existsSync(join(source, 'tokenizer', f))) throw new Error(`${source}: no tokenizer/${f}`)

  const vocab = readJson(join(source, 'tokenizer', 'vocab.json')) as Record<string, number>
  const special = existsSync(join(source, 'tokenizer', 'special_tokens_map.json')) ? readJson(join(source, 'tokenizer', 'special_tokens_map.json')) : {}
  const tokCfg = existsSync(join(source, 'tokenizer', 'tokenizer_config.json')) ? readJson(join(source, 'tokenizer', 'tokenizer_config.json')) : {}
  const maxLength = typeof tokCfg.model_max_length === 'number' && tokCfg.model_max_length <= 4096 ? tokCfg.model_max_length : 77
  const bos = tokenId(vocab, special.bos_token ?? tokCfg.bos_token ?? '<|startoftext|>', 'start')
  const eos = tokenId(vocab, special.eos_token ?? tokCfg.eos_token ?? '<|endoftext|>', 'end')
  const pad = tokenId(vocab, special.pad_token ?? tokCfg.pad_token ?? '<|endoftext|>', 'pad')

  const scheduler = schedulerFromDiffusers(readJson(join(source, 'scheduler', 'scheduler_config.json')), o)
  const vaeCfg = existsSync(join(source, 'vae_decoder', 'config.json')) ? readJson(join(source, 'vae_decoder', 'config.json')) : {}
  const scaling = typeof vaeCfg.scaling_factor === 'number' ? vaeCfg.scaling_factor : 0.18215
  const channels = typeof vaeCfg.latent_channels === 'number' ? vaeCfg.latent_channels : 4
  // AutoencoderKL halves the size in every down block but the last: 2^(blocks − 1), 8 for Stable Diffusion's four.
  const blocks = Array.isArray(vaeCfg.block_out_channels) ? vaeCfg.block_out_channels.length : 4
  const downsample = 2 ** Math.max(0, blocks - 1)

  const io: Record<string, { inputs: IoSpec[]; outputs: IoSpec[] }> = {}
  for (const c of COMPONENTS) io[c] = await declaredIo(join(source, c, 'model.onnx'))

  const files = [
    'model_index.json',
    ...COMPONENTS.flatMap((c) => filesUnder(source, c)),
    ...filesUnder(source, 'tokenizer'),
    ...filesUnder(source, 'scheduler'),
  ]
  return addModel(dir, {
    sourceDir: source,
    kind: 'image',
    name: o.name ?? String(index._name_or_path ?? source.split('/').filter(Boolean).pop() ?? 'stable-diffusion-onnx'),
    description: `Stable Diffusion ONNX export (${cls}, diffusers layout)`,
    files,
    components: { text_encoder: 'text_encoder/model.onnx', unet: 'unet/model.onnx', vae_decoder: 'vae_decoder/model.onnx' },
    io,
    config: {
      tokenizer: { type: 'clip-bpe', vocab: 'tokenizer/vocab.json', merges: 'tokenizer/merges.txt', max_length: maxLength, bos, eos, pad },
      scheduler,
      latent: { channels, downsample, scaling_factor: scaling },
    },
  })
}
