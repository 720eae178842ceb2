// Chat completion with a KV-cache decoder (a GGUF converted by worker/models/smollm2.ts): the
// prompt in one call, then one call per new token with the cache fed back. The chat template and
// the tokenizer come from the model folder; decoding (greedy, temperature/top-p over the seeded
// stream, stop sequences) is plain JS arithmetic so two nodes on the same ORT build agree byte for
// byte.
import { readFileSync } from 'node:fs'
import * as ort from 'onnxruntime-node'
import type { ChatMessage, TextArgs } from '../../modules/task/schema.ts'
import { HashStream } from '../models/prng.ts'
import { type ModelManifest, componentPath } from '../models/store.ts'
import type { ChatTemplate } from '../models/smollm2.ts'
import { type RunnerOptions, getSession, outputTensor } from './session.ts'
import { ByteLevelBpe, type ByteBpeData } from './tokenizers/byte-bpe.ts'

export interface KvDecoderConfig {
  tokenizer: { type: 'gpt2-bpe'; file: string; eos: number }
  chat_template: ChatTemplate
  context_length: number
  kv_cache: { layers: number; kv_heads: number; head_dim: number }
}

const tokenizers = new Map<string, ByteLevelBpe>()

/** The model's tokenizer, loaded once per process. */
export function loadTokenizer(modelDir: string, m: ModelManifest): ByteLevelBpe {
  const path = componentPath(modelDir, m, 'tokenizer')
  let t = tokenizers.get(path)
  if (!t) {
    t = new ByteLevelBpe(JSON.parse(readFileSync(path, 'utf8')) as ByteBpeData)
    tokenizers.set(path, t)
  }
  return t
}

/**
 * ChatML prompt ids: the template's default system message when the first message is not a
 * system one, then <|im_start|>{role}\n{content}<|im_end|>\n per message, then
 * <|im_start|>assistant\n. The markers are control-token ids; message text is encoded as text
 * (a literal "<|im_end|>" in a message stays text).
 */
export function encodeChatML(messages: ChatMessage[], tpl: ChatTemplate, tok: ByteLevelBpe): number[] {
  const start = tok.controlId(tpl.start),
    end = tok.controlId(tpl.end)
  const all = messages[0]?.role !== 'system' && tpl.default_system !== null ? [{ role: 'system' as const, content: tpl.default_system }, ...messages] : messages
  const nl = tok.encode('\n')
  const ids: number[] = []
  for (const m of all) ids.push(start, ...tok.encode(`${m.role}\n${m.content}`), end, ...nl)
  ids.push(start, ...tok.encode('assistant\n'))
  return ids
}

export function argmax(row: Float32Array): number {
  let best = 0
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i // strict: ties keep the lowest id
  return best
}

/**
 * Temperature + nucleus sampling in float64 with a stable order (probability descending, then
 * id ascending), one uniform draw from the seeded stream per token.
 */
export function sampleToken(row: Float32Array, temperature: number, topP: number, rng: HashStream): number {
  let max = -Infinity
  for (const v of row) if (v > max) max = v
  const p = new Float64Array(row.length)
  let sum = 0
  for (let i = 0; i < row.length; i++) {
    p[i] = Math.exp((row[i]! - max) / temperature)
    sum += p[i]!
  }
  const order = Array.from(p.keys()).sort((a, b) => p[b]! - p[a]! || a - b)
  const keep: number[] = []
  let mass = 0
  for (const i of order) {
    keep.push(i)
    mass += p[i]! / sum
    if (mass >= topP) break
  }
  let kept = 0
  for (const i of keep) kept += p[i]!
  let u = rng.unit() * kept
  for (const i of keep) {
    u -= p[i]!
    if (u < 0) return i
  }
  return keep[keep.length - 1]!
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = Math.max(0, from); i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}

export interface KvGeneration {
  promptTokens: number
  /** Generated tokens, without the end-of-turn token. */
  tokens: number[]
  /** The content's UTF-8 bytes (cut before a stop sequence when one matched). */
  bytes: Uint8Array
  finish: 'stop' | 'length'
  provider: 'cpu' | 'cuda'
}

export async function generateKv(
  a: TextArgs,
  modelDir: string,
  m: ModelManifest,
  opts: RunnerOptions & { onToken?: (bytes: Uint8Array) => void; onLogits?: (row: Float32Array) => void } = {},
): Promise<KvGeneration> {
  const cfg = m.config as unknown as KvDecoderConfig
  const tok = loadTokenizer(modelDir, m)
  const prompt = encodeChatML(a.messages, cfg.chat_template, tok)
  if (prompt.length + a.max_new_tokens > cfg.context_length) {
    throw new Error(
      `prompt is ${prompt.length} tokens; with max_new_tokens ${a.max_new_tokens} that exceeds the model's context of ${cfg.context_length} tokens`,
    )
  }
  const { session, provider } = await getSession(componentPath(modelDir, m, 'model'), opts)
  const { layers, kv_heads: kvh, head_dim: hd } = cfg.kv_cache
  const feeds: Record<string, ort.Tensor> = {}
  for (let l = 0; l < layers; l++) {
    feeds[`past_key_${l}`] = new ort.Tensor('float32', new Float32Array(0), [1, kvh, 0, hd])
    feeds[`past_value_${l}`] = new ort.Tensor('float32', new Float32Array(0), [1, kvh, 0, hd])
  }
  const stops = (a.stop ?? []).map((s) => new TextEncoder().encode(s))
  const rng = new HashStream('beryl/text-task/sampling/v1', a.seed)
  const out: number[] = []
  let bytes = new Uint8Array(0)
  let emitted = 0
  let finish: 'stop' | 'length' = 'length'
  let input = prompt
  for (let step = 0; step < a.max_new_tokens; step++) {
    feeds.input_ids = new ort.Tensor('int64', BigInt64Array.from(input, BigInt), [1, input.length])
    const res = await session.run(feeds)
    const row = outputTensor(res, session, 'logits').data as Float32Array
    opts.onLogits?.(row)
    const next = a.temperature === 0 ? argmax(row) : sampleToken(row, a.temperature, a.top_p, rng)
    // A control token (end of turn, end of text, another turn's start) ends the answer.
    if (tok.isControl(next)) {
      finish = 'stop'
      break
    }
    out.push(next)
    const tb = tok.tokenBytes(next)
    const grown = new Uint8Array(bytes.length + tb.length)
    grown.set(bytes)
    grown.set(tb, bytes.length)
    bytes = grown
    let cut = -1
    for (const s of stops) {
      const i = indexOfBytes(bytes, s, bytes.length - tb.length - s.length + 1)
      if (i >= 0 && (cut < 0 || i < cut)) cut = i
    }
    if (cut >= 0) {
      bytes = bytes.slice(0, cut)
      finish = 'stop'
    }
    // Stream only what no stop sequence can still claim.
    const hold = finish === 'stop' ? 0 : Math.max(0, ...stops.map((s) => s.length - 1))
    if (opts.onToken && bytes.length - hold > emitted) {
      opts.onToken(bytes.slice(emitted, bytes.length - hold))
      emitted = bytes.length - hold
    }
    if (finish === 'stop') break
    for (let l = 0; l < layers; l++) {
      feeds[`past_key_${l}`] = res[`present_key_${l}`]!
      feeds[`past_value_${l}`] = res[`present_value_${l}`]!
    }
    input = [next]
  }
  if (opts.onToken && bytes.length > emitted) opts.onToken(bytes.slice(emitted))
  return { promptTokens: prompt.length, tokens: out, bytes, finish, provider }
}
