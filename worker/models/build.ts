// Deterministic builders for Beryl's bundled models.
//
// The bundled models exist so that tests, the devnet and a fresh operator have
// working image and text tasks without downloading anything. They are built
// from a fixed seed on every machine, and their bytes are their identity (see
// store.ts), so everything here is pinned: opset, IR version, node and tensor
// names, the order of nodes and initializers, and weights drawn from a
// SHA-256 counter stream keyed by (model seed, tensor name) so that adding a
// tensor does not shift the values of the others.
//
// The weights are not trained. The image UNet is instead an analytic denoiser
// (the posterior mean under a Gaussian prior over smooth latent fields whose
// mean the prompt sets through cross-attention), so that DDIM sampling turns
// seeded noise into smooth structure depending on both seed and prompt. Its
// I/O contract is that of the common Stable Diffusion ONNX exports.
//
// Command line: `npm run models:build -- <dir>` (scripts/models-build.ts).
import { readFileSync } from 'node:fs'
import protobuf from 'protobufjs'
import { HashStream } from './prng.ts'
import { SD_NOISE_SCHEDULE, alphasCumprod } from './schedule.ts'

export const BUILDER_VERSION = 1
const OPSET = 17
const IR_VERSION = 8

// ---------------------------------------------------------------------------
// ONNX encoding

const onnxRoot = protobuf.parse(readFileSync(new URL('./onnx.proto', import.meta.url), 'utf8'), { keepCase: true }).root
const ModelProto = onnxRoot.lookupType('onnx.ModelProto')

const DT = { FLOAT: 1, INT32: 6, INT64: 7 } as const
type DType = 'float32' | 'int32' | 'int64'
const DT_OF: Record<DType, number> = { float32: DT.FLOAT, int32: DT.INT32, int64: DT.INT64 }

const AT = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const
type Attr = { t: 'i'; v: number } | { t: 'f'; v: number } | { t: 'ints'; v: number[] } | { t: 's'; v: string }
export const ai = (v: number): Attr => ({ t: 'i', v })
const af = (v: number): Attr => ({ t: 'f', v })
export const ais = (v: number[]): Attr => ({ t: 'ints', v })
const as = (v: string): Attr => ({ t: 's', v })

function encodeAttr(name: string, a: Attr): Record<string, unknown> {
  switch (a.t) {
    case 'i':
      return { name, type: AT.INT, i: a.v }
    case 'f':
      return { name, type: AT.FLOAT, f: a.v }
    case 'ints':
      return { name, type: AT.INTS, ints: a.v }
    case 's':
      return { name, type: AT.STRING, s: new TextEncoder().encode(a.v) }
  }
}

const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1

// Little-endian regardless of the host, so the bytes are the same everywhere.
function rawBytes(data: Float32Array | Int32Array | BigInt64Array): Uint8Array {
  // The common case, and the fast one for large converted weights: the memory already is little-endian.
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
  const out = new Uint8Array(data.length * (data instanceof BigInt64Array ? 8 : 4))
  const dv = new DataView(out.buffer)
  if (data instanceof Float32Array) data.forEach((v, i) => dv.setFloat32(i * 4, v, true))
  else if (data instanceof Int32Array) data.forEach((v, i) => dv.setInt32(i * 4, v, true))
  else data.forEach((v, i) => dv.setBigInt64(i * 8, v, true))
  return out
}

export interface IoSpec {
  name: string
  dtype: DType
  shape: (number | string)[]
}

export class Graph {
  readonly nodes: Record<string, unknown>[] = []
  readonly inits: Record<string, unknown>[] = []
  private readonly names = new Set<string>()
  private n = 0

  constructor(readonly seed: string) {}

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`duplicate tensor name ${name}`)
    this.names.add(name)
    return name
  }

  tensor(name: string, dims: number[], data: Float32Array | Int32Array | BigInt64Array): string {
    const n = dims.reduce((a, b) => a * b, 1)
    if (n !== data.length) throw new Error(`${name}: ${data.length} values for dims [${dims}]`)
    const dt = data instanceof Float32Array ? DT.FLOAT : data instanceof Int32Array ? DT.INT32 : DT.INT64
    this.inits.push({ name: this.claim(name), dims, data_type: dt, raw_data: rawBytes(data) })
    return name
  }

  f32(name: string, dims: number[], values: ArrayLike<number>): string {
    return this.tensor(name, dims, Float32Array.from(values))
  }

  i64(name: string, dims: number[], values: number[]): string {
    return this.tensor(name, dims, BigInt64Array.from(values.map(BigInt)))
  }

  scalar(name: string, v: number): string {
    return this.f32(name, [], [v])
  }

  /**
   * Uniform weights with standard deviation `std` (bounds ±√3·std). Uniform,
   * not Gaussian, so generation needs no transcendental functions.
   */
  rand(name: string, dims: number[], std: number): string {
    const n = dims.reduce((a, b) => a * b, 1)
    const s = new HashStream('beryl/model-weights', this.seed, name)
    const half = Math.sqrt(3) * std
    const out = new Float32Array(n)
    for (let i = 0; i < n; i++) out[i] = (2 * s.unit() - 1) * half
    return this.tensor(name, dims, out)
  }

  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, output?: string): string {
    const idx = this.n++
    const name = `${opType.toLowerCase()}_${idx}`
    const out = this.claim(output ?? `t${idx}_${opType.toLowerCase()}`)
    const attribute = Object.keys(attrs)
      .sort()
      .map((k) => encodeAttr(k, attrs[k]!))
    this.nodes.push({ name, op_type: opType, input: inputs, output: [out], attribute })
    return out
  }

  encode(name: string, inputs: IoSpec[], outputs: IoSpec[], meta: Record<string, string>): Uint8Array {
    const vi = (s: IoSpec) => ({
      name: s.name,
      type: { tensor_type: { elem_type: DT_OF[s.dtype], shape: { dim: s.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
    })
    const model = {
      ir_version: IR_VERSION,
      producer_name: 'beryl-model-builder',
      producer_version: String(BUILDER_VERSION),
      opset_import: [{ domain: '', version: OPSET }],
      graph: { name, node: this.nodes, initializer: this.inits, input: inputs.map(vi), output: outputs.map(vi) },
      metadata_props: Object.keys(meta)
        .sort()
        .map((key) => ({ key, value: meta[key] })),
    }
    const err = ModelProto.verify(model)
    if (err) throw new Error(`onnx encode ${name}: ${err}`)
    return ModelProto.encode(ModelProto.fromObject(model)).finish()
  }
}

// ---------------------------------------------------------------------------
// Shared blocks

/** Additive causal mask [T,T] (0 on and below the diagonal, −1e9 above) and the int64 positions [T]. */
function causalMask(g: Graph, ids: string): { mask: string; pos: string } {
  const shape = g.op('Shape', [ids])
  const T = g.op('Gather', [shape, g.i64('mask_dim1', [], [1])], { axis: ai(0) })
  const pos = g.op('Range', [g.i64('mask_zero', [], [0]), T, g.i64('mask_one', [], [1])])
  const rows = g.op('Unsqueeze', [pos, g.i64('mask_ax1', [1], [1])])
  const cols = g.op('Unsqueeze', [pos, g.i64('mask_ax0', [1], [0])])
  const future = g.op('Greater', [cols, rows])
  const mask = g.op('Where', [future, g.scalar('mask_neg', -1e9), g.scalar('mask_zero_f', 0)])
  return { mask, pos }
}

function layerNorm(g: Graph, x: string, d: number, p: string): string {
  return g.op('LayerNormalization', [x, g.f32(`${p}.ln_w`, [d], new Array(d).fill(1)), g.f32(`${p}.ln_b`, [d], new Array(d).fill(0))], {
    axis: ai(-1),
    epsilon: af(1e-5),
  })
}

function linear(g: Graph, x: string, din: number, dout: number, p: string, std: number): string {
  const y = g.op('MatMul', [x, g.rand(`${p}.w`, [din, dout], std)])
  return g.op('Add', [y, g.rand(`${p}.b`, [dout], 0.02)])
}

function selfAttention(g: Graph, h: string, mask: string, d: number, heads: number, p: string): string {
  const dh = d / heads
  const split = g.i64(`${p}.split_shape`, [4], [0, 0, heads, dh])
  const q = g.op('Transpose', [g.op('Reshape', [linear(g, h, d, d, `${p}.q`, 1 / Math.sqrt(d)), split])], { perm: ais([0, 2, 1, 3]) })
  const k = g.op('Transpose', [g.op('Reshape', [linear(g, h, d, d, `${p}.k`, 1 / Math.sqrt(d)), split])], { perm: ais([0, 2, 3, 1]) })
  const v = g.op('Transpose', [g.op('Reshape', [linear(g, h, d, d, `${p}.v`, 1 / Math.sqrt(d)), split])], { perm: ais([0, 2, 1, 3]) })
  const s = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, k]), g.scalar(`${p}.scale`, 1 / Math.sqrt(dh))]), mask])
  const o = g.op('MatMul', [g.op('Softmax', [s], { axis: ai(-1) }), v])
  const merged = g.op('Reshape', [g.op('Transpose', [o], { perm: ais([0, 2, 1, 3]) }), g.i64(`${p}.merge_shape`, [3], [0, 0, d])])
  return linear(g, merged, d, d, `${p}.o`, 0.5 / Math.sqrt(d))
}

/** x·sigmoid(1.702x), CLIP's "quick GELU"; Gelu itself is only in opset ≥ 20. */
function quickGelu(g: Graph, x: string, p: string): string {
  return g.op('Mul', [x, g.op('Sigmoid', [g.op('Mul', [x, g.scalar(`${p}.qg`, 1.702)])])])
}

function block(g: Graph, x: string, mask: string, d: number, heads: number, p: string): string {
  const a = selfAttention(g, layerNorm(g, x, d, `${p}.ln1`), mask, d, heads, `${p}.attn`)
  const x1 = g.op('Add', [x, a])
  const m = linear(
    g,
    quickGelu(g, linear(g, layerNorm(g, x1, d, `${p}.ln2`), d, 4 * d, `${p}.fc1`, 1 / Math.sqrt(d)), `${p}.fc1`),
    4 * d,
    d,
    `${p}.fc2`,
    0.5 / Math.sqrt(4 * d),
  )
  return g.op('Add', [x1, m])
}

// ---------------------------------------------------------------------------
// Image pipeline (Stable Diffusion structure)

export const IMAGE_CFG = {
  seed: 'beryl-tiny-sd/v1',
  vocabSize: 1024,
  maxLength: 77,
  hidden: 32,
  heads: 2,
  latentChannels: 4,
  scaleFactor: 0.18215,
  queryDim: 16,
  decoderChannels: 8,
} as const

// Word-hash tokenizer ids: BOS/EOS at the top of the vocabulary, padding with
// EOS as CLIP does for SD 1.x.
export const IMAGE_TOKENIZER = {
  type: 'beryl-word-hash-v1',
  vocab_size: IMAGE_CFG.vocabSize,
  max_length: IMAGE_CFG.maxLength,
  bos: IMAGE_CFG.vocabSize - 2,
  eos: IMAGE_CFG.vocabSize - 1,
  pad: IMAGE_CFG.vocabSize - 1,
} as const

export const IMAGE_IO: Record<'text_encoder' | 'unet' | 'vae_decoder', { inputs: IoSpec[]; outputs: IoSpec[] }> = {
  text_encoder: {
    inputs: [{ name: 'input_ids', dtype: 'int32', shape: ['batch', IMAGE_CFG.maxLength] }],
    outputs: [{ name: 'last_hidden_state', dtype: 'float32', shape: ['batch', IMAGE_CFG.maxLength, IMAGE_CFG.hidden] }],
  },
  unet: {
    inputs: [
      { name: 'sample', dtype: 'float32', shape: ['batch', IMAGE_CFG.latentChannels, 'height', 'width'] },
      { name: 'timestep', dtype: 'int64', shape: ['batch'] },
      { name: 'encoder_hidden_states', dtype: 'float32', shape: ['batch', 'sequence', IMAGE_CFG.hidden] },
    ],
    outputs: [{ name: 'out_sample', dtype: 'float32', shape: ['batch', IMAGE_CFG.latentChannels, 'height', 'width'] }],
  },
  vae_decoder: {
    inputs: [{ name: 'latent_sample', dtype: 'float32', shape: ['batch', IMAGE_CFG.latentChannels, 'latent_height', 'latent_width'] }],
    outputs: [{ name: 'sample', dtype: 'float32', shape: ['batch', 3, 'image_height', 'image_width'] }],
  },
}

function buildTextEncoder(): Uint8Array {
  const { hidden: d, maxLength: T, vocabSize: V, heads } = IMAGE_CFG
  const g = new Graph(`${IMAGE_CFG.seed}/text_encoder`)
  const ids = 'input_ids'
  const { mask } = causalMask(g, ids)
  const emb = g.op('Gather', [g.rand('token_embedding', [V, d], 1), ids], { axis: ai(0) })
  let x = g.op('Add', [emb, g.rand('position_embedding', [T, d], 0.5)])
  x = block(g, x, mask, d, heads, 'layer0')
  g.op('Identity', [layerNorm(g, x, d, 'final')], {}, 'last_hidden_state')
  return g.encode('text_encoder', IMAGE_IO.text_encoder.inputs, IMAGE_IO.text_encoder.outputs, { 'beryl.component': 'text_encoder' })
}

/** Binomial 5×5 blur, one kernel per channel (a depthwise Conv). */
function blurKernel(channels: number): number[] {
  const k1 = [1, 4, 6, 4, 1]
  const out: number[] = []
  for (let c = 0; c < channels; c++) for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) out.push((k1[i]! * k1[j]!) / 256)
  return out
}

// Prior variance per frequency band of the smooth-field prior, finest first.
// The finest band (what a 5×5 blur removes) carries no signal, so sampling
// ends in smooth fields; the coarsest carries most of the unit variance.
export const UNET_BAND_VARIANCE = [0, 1, 12, 120] as const

function buildUnet(): Uint8Array {
  const { latentChannels: C, hidden: D, queryDim: Q } = IMAGE_CFG
  const g = new Graph(`${IMAGE_CFG.seed}/unet`)
  // Time conditioning: the network knows its training schedule, so the
  // timestep selects per-timestep coefficients from tables baked into the
  // graph (the role a trained UNet's timestep embedding plays).
  const ac = alphasCumprod(SD_NOISE_SCHEDULE)
  const bcast = g.i64('schedule.bcast_shape', [4], [-1, 1, 1, 1])
  const coef = (name: string, f: (a: number) => number) =>
    g.op('Reshape', [g.op('Gather', [g.f32(`schedule.${name}`, [ac.length], Array.from(ac, f)), 'timestep'], { axis: ai(0) }), bcast])
  const sa = coef('sqrt_alpha_cumprod', (a) => Math.sqrt(a))
  const sb = coef('sqrt_one_minus_alpha_cumprod', (a) => Math.sqrt(1 - a))
  // Posterior-mean gain of a band with prior variance λ: √ᾱλ / (ᾱλ + 1 − ᾱ).
  const gains = UNET_BAND_VARIANCE.map((lam, k) => (lam === 0 ? null : coef(`band${k}_gain`, (a) => (Math.sqrt(a) * lam) / (a * lam + 1 - a))))

  // UNet-shaped multiscale path: blur, then two levels of pool → blur → blur,
  // each brought back to the input size (Resize to the sample's own shape, so
  // odd latent sizes round-trip). Edge padding keeps a constant field constant
  // up to the borders.
  const blur = g.f32('lowpass.blur', [C, 1, 5, 5], blurKernel(C))
  const padSpec = g.i64('lowpass.pads', [8], [0, 0, 2, 2, 0, 0, 2, 2])
  const conv = (x: string) => g.op('Conv', [g.op('Pad', [x, padSpec], { mode: as('edge') }), blur], { group: ai(C), kernel_shape: ais([5, 5]) })
  const pool = (x: string) => g.op('AveragePool', [x], { kernel_shape: ais([2, 2]), strides: ais([2, 2]), ceil_mode: ai(1) })
  const sizes = g.op('Shape', ['sample'])
  const upTo = (x: string) => g.op('Resize', [x, '', '', sizes], { mode: as('cubic') })
  const bank = (x: string) => {
    const l1 = conv(x)
    const half = conv(conv(pool(l1)))
    const quarter = conv(conv(pool(half)))
    return { l1, l2: upTo(half), l3: upTo(quarter) }
  }

  // Text conditioning sets the prior mean μ. Cross-attention: each latent
  // position queries the prompt tokens with features of its own smoothed
  // value, so the prompt decides which token's value vector lands in which
  // region (prompts change the layout, not just the palette). A second,
  // pooled term shifts every region, so two prompts differ everywhere.
  const feat = g.op('Tanh', [
    g.op('Conv', [upTo(conv(conv(pool(conv('sample'))))), g.rand('xattn.feat.w', [Q, C, 1, 1], 1.5), g.rand('xattn.feat.b', [Q], 0.5)]),
  ])
  const flat = g.op('Transpose', [g.op('Reshape', [feat, g.i64('xattn.flat_shape', [3], [0, 0, -1])])], { perm: ais([0, 2, 1]) })
  const q = g.op('MatMul', [flat, g.rand('xattn.q', [Q, Q], 1 / Math.sqrt(Q))])
  const k = g.op('Transpose', [g.op('MatMul', ['encoder_hidden_states', g.rand('xattn.k', [D, Q], 1 / Math.sqrt(D))])], { perm: ais([0, 2, 1]) })
  const v = g.op('MatMul', ['encoder_hidden_states', g.rand('xattn.v', [D, C], 1 / Math.sqrt(D))])
  const att = g.op('Softmax', [g.op('Mul', [g.op('MatMul', [q, k]), g.scalar('xattn.temp', 3 / Math.sqrt(Q))])], { axis: ai(-1) })
  const o = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [att, v])], { perm: ais([0, 2, 1]) }), sizes])
  const pooled = g.op('ReduceMean', ['encoder_hidden_states'], { axes: ais([1]), keepdims: ai(0) })
  const shift = g.op('Reshape', [g.op('MatMul', [pooled, g.rand('xattn.mean', [D, C], 1 / Math.sqrt(D))]), g.i64('xattn.mean_shape', [4], [0, C, 1, 1])])
  const mu = g.op('Add', [g.op('Mul', [o, g.scalar('xattn.gamma', 0.5)]), g.op('Mul', [shift, g.scalar('xattn.gamma_mean', 1.5)])])

  // Posterior mean under the prior N(μ, Σ_bands):
  //   x̂₀ = μ + Σ_k gain_k·band_k(x − √ᾱ·μ),  then ε = (x − √ᾱ·x̂₀)/√(1−ᾱ),
  // the ε-prediction an SD UNet returns.
  const y = bank(g.op('Sub', ['sample', g.op('Mul', [sa, mu])]))
  const bands = [null, g.op('Sub', [y.l1, y.l2]), g.op('Sub', [y.l2, y.l3]), y.l3]
  let x0 = mu
  for (let b = 1; b < bands.length; b++) x0 = g.op('Add', [x0, g.op('Mul', [bands[b]!, gains[b]!])])
  g.op('Div', [g.op('Sub', ['sample', g.op('Mul', [sa, x0])]), sb], {}, 'out_sample')
  return g.encode('unet', IMAGE_IO.unet.inputs, IMAGE_IO.unet.outputs, { 'beryl.component': 'unet' })
}

function buildVaeDecoder(): Uint8Array {
  const { latentChannels: C, decoderChannels: H } = IMAGE_CFG
  const g = new Graph(`${IMAGE_CFG.seed}/vae_decoder`)
  let x = g.op('Conv', ['latent_sample', g.rand('dec.in.w', [H, C, 1, 1], 0.25), g.rand('dec.in.b', [H], 0.5)])
  x = g.op('Resize', [x, '', g.f32('dec.up2', [4], [1, 1, 2, 2])], { mode: as('linear') })
  const padded = g.op('Pad', [x, g.i64('dec.mid.pads', [8], [0, 0, 1, 1, 0, 0, 1, 1])], { mode: as('edge') })
  const r = g.op('Tanh', [g.op('Conv', [padded, g.rand('dec.mid.w', [H, H, 3, 3], 0.1), g.rand('dec.mid.b', [H], 0.1)], { kernel_shape: ais([3, 3]) })])
  x = g.op('Add', [x, r])
  x = g.op('Resize', [x, '', g.f32('dec.up4', [4], [1, 1, 4, 4])], { mode: as('cubic') })
  // A periodic activation maps latent level sets to colour bands: vivid, smooth,
  // and always inside SD's [−1, 1] output range.
  const rgb = g.op('Conv', [x, g.rand('dec.out.w', [3, H, 1, 1], 0.8), g.rand('dec.out.b', [3], 1)])
  g.op('Sin', [rgb], {}, 'sample')
  return g.encode('vae_decoder', IMAGE_IO.vae_decoder.inputs, IMAGE_IO.vae_decoder.outputs, { 'beryl.component': 'vae_decoder' })
}

// ---------------------------------------------------------------------------
// Text model (decoder-only transformer over bytes)

export const TEXT_CFG = {
  seed: 'beryl-tiny-lm/v1',
  vocabSize: 264,
  hidden: 48,
  heads: 4,
  layers: 2,
  contextLength: 2048,
} as const

export const TEXT_TOKENIZER = {
  type: 'byte-level-v1',
  vocab_size: TEXT_CFG.vocabSize,
  bos: 256,
  eos: 257,
  roles: { system: 258, user: 259, assistant: 260 },
  // The prompt is BOS, then per message: role token, UTF-8 bytes, EOS; then
  // the assistant role token. Generation stops at EOS.
  chat_template: 'bos (role bytes eos)* assistant',
} as const

export const TEXT_IO: { model: { inputs: IoSpec[]; outputs: IoSpec[] } } = {
  model: {
    inputs: [{ name: 'input_ids', dtype: 'int64', shape: [1, 'sequence'] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: [1, 'sequence', TEXT_CFG.vocabSize] }],
  },
}

// ln(frequency) of characters in English prose, so that an untrained model
// still emits word-like text instead of arbitrary bytes.
const CHAR_PRIOR: Record<string, number> = {
  ' ': -1.71,
  e: -2.26,
  t: -2.59,
  a: -2.7,
  o: -2.78,
  i: -2.86,
  n: -2.9,
  s: -2.96,
  h: -3.0,
  r: -3.02,
  d: -3.35,
  l: -3.41,
  c: -3.77,
  u: -3.77,
  m: -3.91,
  w: -3.91,
  f: -4.02,
  g: -4.14,
  y: -4.14,
  p: -4.2,
  b: -4.42,
  ',': -4.61,
  '.': -4.61,
  v: -4.83,
  k: -5.12,
  '\n': -5.81,
  j: -6.73,
  x: -6.73,
  q: -7.13,
  z: -7.42,
}

function buildTextModel(): Uint8Array {
  const { vocabSize: V, hidden: d, heads, layers } = TEXT_CFG
  const g = new Graph(TEXT_CFG.seed)
  const ids = 'input_ids'
  const { mask, pos } = causalMask(g, ids)
  // Sinusoidal positions computed in-graph, so there is no maximum length in
  // the weights. Frequencies form a geometric series with ratio 0.7 (from 1 to
  // ~3e-4), built by multiplication alone to stay bit-exact.
  const invFreq: number[] = []
  for (let i = 0, f = 1; i < d / 2; i++, f *= 0.7) invFreq.push(f)
  const ang = g.op('Mul', [
    g.op('Unsqueeze', [g.op('Cast', [pos], { to: ai(DT.FLOAT) }), g.i64('pos_ax1', [1], [1])]),
    g.f32('pos_inv_freq', [1, d / 2], invFreq),
  ])
  const pe = g.op('Concat', [g.op('Sin', [ang]), g.op('Cos', [ang])], { axis: ai(1) })
  let x = g.op('Add', [g.op('Gather', [g.rand('token_embedding', [V, d], 1), ids], { axis: ai(0) }), g.op('Mul', [pe, g.scalar('pos_scale', 0.5)])])
  for (let l = 0; l < layers; l++) x = block(g, x, mask, d, heads, `layer${l}`)
  const h = layerNorm(g, x, d, 'final')
  const prior = new Float32Array(V).fill(-12)
  for (const [ch, lp] of Object.entries(CHAR_PRIOR)) prior[ch.charCodeAt(0)] = lp
  for (let c = 65; c <= 90; c++) prior[c] = -6.5 // capitals: rare but possible
  prior[TEXT_TOKENIZER.eos] = -6
  const logits = g.op('MatMul', [h, g.rand('lm_head', [d, V], 1.3 / Math.sqrt(d))])
  g.op('Add', [logits, g.f32('lm_prior', [V], prior)], {}, 'logits')
  return g.encode('text_lm', TEXT_IO.model.inputs, TEXT_IO.model.outputs, { 'beryl.component': 'model', 'beryl.tokenizer': TEXT_TOKENIZER.type })
}

// ---------------------------------------------------------------------------
// Bundled model descriptions (store.ts turns these into model folders)

export interface BuiltModel {
  kind: 'image' | 'text'
  name: string
  description: string
  files: { path: string; bytes: Uint8Array }[]
  components: Record<string, string>
  io: Record<string, { inputs: IoSpec[]; outputs: IoSpec[] }>
  config: Record<string, unknown>
}

export function buildImageModel(): BuiltModel {
  return {
    kind: 'image',
    name: 'beryl-tiny-sd',
    description:
      'Untrained tiny Stable-Diffusion-shaped pipeline (text_encoder, unet, vae_decoder) built from a fixed seed; for tests, devnets and smoke checks.',
    files: [
      { path: 'text_encoder/model.onnx', bytes: buildTextEncoder() },
      { path: 'unet/model.onnx', bytes: buildUnet() },
      { path: 'vae_decoder/model.onnx', bytes: buildVaeDecoder() },
    ],
    components: { text_encoder: 'text_encoder/model.onnx', unet: 'unet/model.onnx', vae_decoder: 'vae_decoder/model.onnx' },
    io: IMAGE_IO,
    config: {
      tokenizer: IMAGE_TOKENIZER,
      scheduler: {
        type: 'ddim',
        ...SD_NOISE_SCHEDULE,
        timestep_spacing: 'leading',
        steps_offset: 1,
        set_alpha_to_one: false,
        prediction_type: 'epsilon',
      },
      latent: { channels: IMAGE_CFG.latentChannels, downsample: 8, scaling_factor: IMAGE_CFG.scaleFactor },
      builder: { version: BUILDER_VERSION, seed: IMAGE_CFG.seed },
    },
  }
}

export function buildTextModelEntry(): BuiltModel {
  return {
    kind: 'text',
    name: 'beryl-tiny-lm',
    description: 'Untrained tiny decoder-only byte-level transformer built from a fixed seed; for tests, devnets and smoke checks.',
    files: [{ path: 'model.onnx', bytes: buildTextModel() }],
    components: { model: 'model.onnx' },
    io: TEXT_IO,
    config: {
      tokenizer: TEXT_TOKENIZER,
      context_length: TEXT_CFG.contextLength,
      builder: { version: BUILDER_VERSION, seed: TEXT_CFG.seed },
    },
  }
}

export function buildBundledModels(): BuiltModel[] {
  return [buildImageModel(), buildTextModelEntry()]
}
