// A Llama-architecture GGUF (SmolLM2-135M-Instruct by default) as a Beryl text model: the weights
// dequantized to float32 (gguf.ts), an ONNX decoder graph with a KV cache built here, and the
// tokenizer and chat template taken from the GGUF's metadata.
//
// The graph, per call (opset 17, batch 1):
//   inputs   input_ids int64 [1,S]; past_key_<l>, past_value_<l> float32 [1,KV,P,64] (P = 0 at first)
//   outputs  logits float32 [1,V] (the last position only); present_key_<l>, present_value_<l> [1,KV,P+S,64]
//   block    x += Wo·attn(RoPE(Wq·n(x)), RoPE(Wk·n(x)), Wv·n(x)); x += Wd·(silu(Wg·n(x)) ⊙ Wu·n(x))
//            with n = RMSNorm(eps) · weight; grouped-query attention (query head h reads KV head
//            ⌊h / (heads/KV)⌋), causal over the P cached and S new positions, scaled by 1/√64.
//   RoPE     adjacent pairs (x₂ᵢ, x₂ᵢ₊₁) rotate by p·base^(−2i/d): llama.cpp's converter permuted q/k
//            so that this "normal" rotation is the right one. cos/sin come from tables indexed by
//            position (computed here in float64, stored as float32), so no transcendental function
//            runs inside the graph.
//   head     RMSNorm(output_norm), then the tied token embedding (Gemm, transB).
//
// Everything that shapes the output besides the weights goes into the manifest's config (tokenizer
// file, chat template, context length, the graph builder's version), so it is part of the model id.
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BuiltModel, Graph, type IoSpec, ai, ais } from './build.ts'
import { type GgufFile, metaArray, metaNumber, metaString, readGguf, readTensor } from './gguf.ts'
import type { ByteBpeData } from '../runners/tokenizers/byte-bpe.ts'

/** Bumped whenever the graph this file emits changes (it is in the manifest, so in the model id). */
export const LLAMA_GRAPH_VERSION = 1

export const SMOLLM2 = {
  name: 'smollm2-135m-instruct',
  file: 'SmolLM2-135M-Instruct.Q4_1.gguf',
  sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
  /** Where scripts/setup.sh puts it: <repo>/.models/. */
  defaultPath: resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '.models', 'SmolLM2-135M-Instruct.Q4_1.gguf'),
} as const

export function smollm2Available(): boolean {
  return existsSync(SMOLLM2.defaultPath)
}

export interface LlamaShape {
  layers: number
  hidden: number
  ffn: number
  heads: number
  kvHeads: number
  headDim: number
  ropeBase: number
  rmsEps: number
  contextLength: number
  vocabSize: number
}

export function llamaShape(f: GgufFile): LlamaShape {
  const arch = metaString(f, 'general.architecture')
  if (arch !== 'llama') throw new Error(`${f.path}: architecture ${JSON.stringify(arch)} is not supported (llama is)`)
  const hidden = metaNumber(f, 'llama.embedding_length')
  const heads = metaNumber(f, 'llama.attention.head_count')
  const s: LlamaShape = {
    layers: metaNumber(f, 'llama.block_count'),
    hidden,
    ffn: metaNumber(f, 'llama.feed_forward_length'),
    heads,
    kvHeads: metaNumber(f, 'llama.attention.head_count_kv'),
    headDim: hidden / heads,
    ropeBase: metaNumber(f, 'llama.rope.freq_base'),
    rmsEps: metaNumber(f, 'llama.attention.layer_norm_rms_epsilon'),
    contextLength: metaNumber(f, 'llama.context_length'),
    vocabSize: metaArray(f, 'tokenizer.ggml.tokens').length,
  }
  if (!Number.isInteger(s.headDim) || s.heads % s.kvHeads)
    throw new Error(`${f.path}: ${heads} heads do not divide width ${hidden} or into ${s.kvHeads} KV heads`)
  const ropeDims = f.metadata['llama.rope.dimension_count']
  if (ropeDims !== undefined && Number(ropeDims) !== s.headDim) throw new Error(`${f.path}: partial RoPE (${ropeDims} of ${s.headDim} dims) is not supported`)
  if (f.tensors.has('output.weight')) throw new Error(`${f.path}: an untied output.weight is not supported yet (SmolLM2 ties it to token_embd)`)
  return s
}

// ---------------------------------------------------------------------------
// Tokenizer and chat template from the metadata

export interface ChatTemplate {
  /** ChatML: <|im_start|>{role}\n{content}<|im_end|>\n per message, then <|im_start|>assistant\n. */
  type: 'chatml'
  /** Inserted as a first system message when the conversation does not start with one. */
  default_system: string | null
  start: string
  end: string
}

/**
 * Recognises the ChatML template in `tokenizer.chat_template` (the Jinja text HF ships) and reads
 * its default system prompt. Other templates are refused rather than guessed.
 */
export function parseChatTemplate(t: string): ChatTemplate {
  const chatml = t.includes("'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'")
  if (!chatml) throw new Error('chat template is not ChatML; only ChatML templates are supported')
  const sys = /messages\[0\]\['role'\] != 'system' %\}\{\{ '<\|im_start\|>system\n([\s\S]*?)<\|im_end\|>\n' \}\}/.exec(t)
  return { type: 'chatml', default_system: sys ? sys[1]! : null, start: '<|im_start|>', end: '<|im_end|>' }
}

export function tokenizerFromGguf(f: GgufFile): ByteBpeData {
  const model = metaString(f, 'tokenizer.ggml.model')
  if (model !== 'gpt2') throw new Error(`${f.path}: tokenizer ${JSON.stringify(model)} is not supported (gpt2 byte-level BPE is)`)
  const pre = metaString(f, 'tokenizer.ggml.pre')
  if (pre !== 'smollm' && pre !== 'gpt2') throw new Error(`${f.path}: pre-tokenizer ${JSON.stringify(pre)} is not supported (smollm, gpt2)`)
  return {
    type: 'gpt2-bpe',
    pre,
    tokens: metaArray<string>(f, 'tokenizer.ggml.tokens'),
    token_types: metaArray<number>(f, 'tokenizer.ggml.token_type').map(Number),
    merges: metaArray<string>(f, 'tokenizer.ggml.merges'),
  }
}

// ---------------------------------------------------------------------------
// The ONNX graph

export function llamaIo(s: LlamaShape): { inputs: IoSpec[]; outputs: IoSpec[] } {
  const kv = (n: string, len: string): IoSpec => ({ name: n, dtype: 'float32', shape: [1, s.kvHeads, len, s.headDim] })
  const inputs: IoSpec[] = [{ name: 'input_ids', dtype: 'int64', shape: [1, 'sequence'] }]
  const outputs: IoSpec[] = [{ name: 'logits', dtype: 'float32', shape: [1, s.vocabSize] }]
  for (let l = 0; l < s.layers; l++) {
    inputs.push(kv(`past_key_${l}`, 'past'), kv(`past_value_${l}`, 'past'))
    outputs.push(kv(`present_key_${l}`, 'total'), kv(`present_value_${l}`, 'total'))
  }
  return { inputs, outputs }
}

/** A ggml weight [in, out] (rows of `in` values, one per output) as an ONNX MatMul operand [in, out]. */
function transposed(data: Float32Array, inDim: number, outDim: number): Float32Array {
  const t = new Float32Array(data.length)
  for (let o = 0; o < outDim; o++) for (let i = 0; i < inDim; i++) t[i * outDim + o] = data[o * inDim + i]!
  return t
}

export async function buildLlamaOnnx(f: GgufFile, s: LlamaShape): Promise<Uint8Array> {
  const g = new Graph('llama-gguf')
  const D = s.hidden,
    H = s.heads,
    KV = s.kvHeads,
    HD = s.headDim
  const weight = async (name: string, inDim: number, outDim: number) => {
    const t = await readTensor(f, name)
    if (t.shape[0] !== inDim || t.shape[1] !== outDim) throw new Error(`${name}: shape [${t.shape}], expected [${inDim},${outDim}]`)
    return g.tensor(name, [inDim, outDim], transposed(t.data, inDim, outDim))
  }
  const vector = async (name: string, n: number) => {
    const t = await readTensor(f, name)
    if (t.data.length !== n) throw new Error(`${name}: ${t.data.length} values, expected ${n}`)
    return g.tensor(name, [n], t.data)
  }
  const i64 = (name: string, v: number[]) => g.i64(name, [v.length], v)
  const scalarI64 = (name: string, v: number) => g.i64(name, [], [v])

  // Positions P … P+S−1, where P is the cached length.
  const shapeIds = g.op('Shape', ['input_ids'])
  const S = g.op('Gather', [shapeIds, scalarI64('c.one', 1)], { axis: ai(0) })
  const P = g.op('Gather', [g.op('Shape', ['past_key_0']), scalarI64('c.two', 2)], { axis: ai(0) })
  const T = g.op('Add', [P, S])
  const pos = g.op('Range', [P, T, g.i64('c.step', [], [1])])

  // RoPE tables [context, HD/2].
  const half = HD / 2
  const cosT = new Float32Array(s.contextLength * half),
    sinT = new Float32Array(s.contextLength * half)
  for (let p = 0; p < s.contextLength; p++) {
    for (let i = 0; i < half; i++) {
      const a = p * Math.pow(s.ropeBase, (-2 * i) / HD)
      cosT[p * half + i] = Math.cos(a)
      sinT[p * half + i] = Math.sin(a)
    }
  }
  const cos = g.op('Gather', [g.tensor('rope.cos', [s.contextLength, half], cosT), pos], { axis: ai(0) }) // [S, HD/2]
  const sin = g.op('Gather', [g.tensor('rope.sin', [s.contextLength, half], sinT), pos], { axis: ai(0) })
  const rope = (x: string, heads: number, p: string): string => {
    // x [1, heads, S, HD] → pairs [1, heads, S, HD/2, 2]
    const pairs = g.op('Reshape', [x, i64(`${p}.pairs`, [0, heads, -1, half, 2])])
    const x0 = g.op('Gather', [pairs, scalarI64(`${p}.i0`, 0)], { axis: ai(4) })
    const x1 = g.op('Gather', [pairs, scalarI64(`${p}.i1`, 1)], { axis: ai(4) })
    const y0 = g.op('Sub', [g.op('Mul', [x0, cos]), g.op('Mul', [x1, sin])])
    const y1 = g.op('Add', [g.op('Mul', [x0, sin]), g.op('Mul', [x1, cos])])
    const ax = i64(`${p}.ax`, [4])
    const both = g.op('Concat', [g.op('Unsqueeze', [y0, ax]), g.op('Unsqueeze', [y1, ax])], { axis: ai(4) })
    return g.op('Reshape', [both, i64(`${p}.back`, [0, heads, -1, HD])])
  }

  // Causal mask [S, T]: query at position P+i sees keys 0 … P+i.
  const rows = g.op('Unsqueeze', [pos, i64('mask.ax1', [1])])
  const cols = g.op('Unsqueeze', [g.op('Range', [scalarI64('mask.zero', 0), T, scalarI64('mask.step', 1)]), i64('mask.ax0', [0])])
  const mask = g.op('Where', [g.op('Greater', [cols, rows]), g.scalar('mask.neg', -1e9), g.scalar('mask.zero_f', 0)])

  const eps = g.scalar('rms.eps', s.rmsEps)
  const rmsNorm = async (x: string, w: string) => {
    const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: ais([-1]), keepdims: ai(1) })
    const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [ms, eps])])])
    return g.op('Mul', [g.op('Mul', [x, inv]), await vector(w, D)])
  }
  const scale = g.scalar('attn.scale', 1 / Math.sqrt(HD))
  const rep = H / KV

  let x = g.op('Gather', [g.tensor('token_embd.weight', [s.vocabSize, D], (await readTensor(f, 'token_embd.weight')).data), 'input_ids'], { axis: ai(0) })
  for (let l = 0; l < s.layers; l++) {
    const b = `blk.${l}`
    const h = await rmsNorm(x, `${b}.attn_norm.weight`)
    const heads = (y: string, n: number, name: string) =>
      g.op('Transpose', [g.op('Reshape', [y, i64(`${b}.${name}.split`, [0, 0, n, HD])])], { perm: ais([0, 2, 1, 3]) })
    const q = rope(heads(g.op('MatMul', [h, await weight(`${b}.attn_q.weight`, D, D)]), H, 'q'), H, `${b}.rope_q`)
    const k = rope(heads(g.op('MatMul', [h, await weight(`${b}.attn_k.weight`, D, KV * HD)]), KV, 'k'), KV, `${b}.rope_k`)
    const v = heads(g.op('MatMul', [h, await weight(`${b}.attn_v.weight`, D, KV * HD)]), KV, 'v')
    const kAll = g.op('Concat', [`past_key_${l}`, k], { axis: ai(2) }, `present_key_${l}`)
    const vAll = g.op('Concat', [`past_value_${l}`, v], { axis: ai(2) }, `present_value_${l}`)
    // Grouped query heads [1, KV, rep, S, HD] against [1, KV, 1, …] keys and values (broadcast).
    const q5 = g.op('Reshape', [q, i64(`${b}.q5`, [0, KV, rep, -1, HD])])
    const kT = g.op('Unsqueeze', [g.op('Transpose', [kAll], { perm: ais([0, 1, 3, 2]) }), i64(`${b}.k5`, [2])])
    const v5 = g.op('Unsqueeze', [vAll, i64(`${b}.v5`, [2])])
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q5, kT]), scale]), mask])
    const o5 = g.op('MatMul', [g.op('Softmax', [scores], { axis: ai(-1) }), v5])
    const o = g.op('Reshape', [
      g.op('Transpose', [g.op('Reshape', [o5, i64(`${b}.o4`, [0, H, -1, HD])])], { perm: ais([0, 2, 1, 3]) }),
      i64(`${b}.merge`, [0, 0, D]),
    ])
    x = g.op('Add', [x, g.op('MatMul', [o, await weight(`${b}.attn_output.weight`, D, D)])])

    const h2 = await rmsNorm(x, `${b}.ffn_norm.weight`)
    const gate = g.op('MatMul', [h2, await weight(`${b}.ffn_gate.weight`, D, s.ffn)])
    const up = g.op('MatMul', [h2, await weight(`${b}.ffn_up.weight`, D, s.ffn)])
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up])
    x = g.op('Add', [x, g.op('MatMul', [act, await weight(`${b}.ffn_down.weight`, s.ffn, D)])])
  }
  const last = g.op('Gather', [x, g.op('Sub', [S, scalarI64('c.last', 1)])], { axis: ai(1) }) // [1, D]
  const hn = await rmsNorm(last, 'output_norm.weight')
  g.op('Gemm', [hn, 'token_embd.weight'], { transB: ai(1) }, 'logits')
  const io = llamaIo(s)
  return g.encode('llama_decoder', io.inputs, io.outputs, { 'beryl.component': 'model', 'beryl.graph': `llama-kv/${LLAMA_GRAPH_VERSION}` })
}

// ---------------------------------------------------------------------------
// The model entry

/** Converts a Llama GGUF into a Beryl text model (model.onnx + tokenizer.json), for writeBuiltModel. */
export async function buildGgufTextModel(path: string, o: { name?: string } = {}): Promise<BuiltModel> {
  const f = await readGguf(path)
  const s = llamaShape(f)
  const tok = tokenizerFromGguf(f)
  const template = parseChatTemplate(metaString(f, 'tokenizer.chat_template'))
  const eos = metaNumber(f, 'tokenizer.ggml.eos_token_id')
  const onnx = await buildLlamaOnnx(f, s)
  const io = llamaIo(s)
  return {
    kind: 'text',
    name: o.name ?? (typeof f.metadata['general.name'] === 'string' ? String(f.metadata['general.name']) : 'llama-gguf'),
    description: `Converted from ${path.split('/').pop()} (Llama architecture, ${s.layers} blocks, width ${s.hidden}); weights dequantized to float32.`,
    files: [
      { path: 'model.onnx', bytes: onnx },
      { path: 'tokenizer.json', bytes: new TextEncoder().encode(JSON.stringify(tok)) },
    ],
    components: { model: 'model.onnx', tokenizer: 'tokenizer.json' },
    io: { model: io },
    config: {
      tokenizer: { type: 'gpt2-bpe', pre: tok.pre, file: 'tokenizer.json', eos, vocab_size: s.vocabSize },
      chat_template: template,
      context_length: s.contextLength,
      kv_cache: { layers: s.layers, kv_heads: s.kvHeads, head_dim: s.headDim },
      architecture: {
        type: 'llama',
        layers: s.layers,
        hidden: s.hidden,
        ffn: s.ffn,
        heads: s.heads,
        kv_heads: s.kvHeads,
        rope_base: s.ropeBase,
        rms_eps: s.rmsEps,
      },
      builder: { graph: 'llama-kv', version: LLAMA_GRAPH_VERSION },
    },
  }
}
