// Chat completion with a decoder-only transformer over a byte-level
// vocabulary. The output is an OpenAI-style chat.completion object whose
// serialized bytes are the task result (validators compare their sha256), so
// every field is deterministic: no wall-clock `created`, an id derived from
// the request, and a fixed key order.
import { createHash } from 'node:crypto'
import * as ort from 'onnxruntime-node'
import { HashStream } from '../models/prng.ts'
import { type ModelManifest, canonicalJson, componentPath } from '../models/store.ts'
import { resolveModel } from './resolve.ts'
import { type ChatMessage, type TextArgs, validateTextArgs } from '../../modules/task/schema.ts'
import { type RunnerOptions, getSession, outputTensor } from './session.ts'
import { generateKv } from './llama.ts'

export interface ChatCompletion {
  id: string
  object: 'chat.completion'
  created: number
  model: string
  choices: { index: number; message: { role: 'assistant'; content: string }; finish_reason: 'stop' | 'length' }[]
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number }
}

export interface TextTaskResult {
  /** UTF-8 JSON of `completion`: the bytes a node stores as 0.json and hashes. */
  json: Uint8Array
  completion: ChatCompletion
  model: string
  provider: 'cpu' | 'cuda'
  args: TextArgs
}

interface ByteTokenizerConfig {
  type: 'byte-level-v1'
  vocab_size: number
  bos: number
  eos: number
  roles: Record<ChatMessage['role'], number>
}

function parseTokenizer(c: unknown): ByteTokenizerConfig {
  const o = (c ?? {}) as Partial<ByteTokenizerConfig>
  if (o.type !== 'byte-level-v1') throw new Error(`text tokenizer ${JSON.stringify(o.type)} is not supported (this runner implements "byte-level-v1")`)
  const ok = (v: unknown) => Number.isInteger(v) && (v as number) >= 256 && (v as number) < (o.vocab_size ?? 0)
  if (!ok(o.bos) || !ok(o.eos) || !o.roles || !ok(o.roles.system) || !ok(o.roles.user) || !ok(o.roles.assistant)) {
    throw new Error('byte-level tokenizer config: special token ids must be in [256, vocab_size)')
  }
  return o as ByteTokenizerConfig
}

const utf8 = new TextEncoder()

/** BOS, then per message its role token, UTF-8 bytes and EOS, then the assistant role token. */
export function encodeChat(messages: ChatMessage[], tok: ByteTokenizerConfig): number[] {
  const ids = [tok.bos]
  for (const m of messages) {
    ids.push(tok.roles[m.role])
    for (const b of utf8.encode(m.content)) ids.push(b)
    ids.push(tok.eos)
  }
  ids.push(tok.roles.assistant)
  return ids
}

function argmax(row: Float32Array): number {
  let best = 0
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i // strict: ties keep the lowest id
  return best
}

/**
 * Temperature + nucleus sampling with float64 arithmetic and a stable order
 * (probability descending, then id ascending), driven by the seeded stream.
 */
function sample(row: Float32Array, temperature: number, topP: number, rng: HashStream): number {
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

function completionId(m: ModelManifest, a: TextArgs): string {
  return `chatcmpl-${createHash('sha256')
    .update(canonicalJson({ model: m.id, args: a }))
    .digest('hex')
    .slice(0, 24)}`
}

function completionOf(
  m: ModelManifest,
  a: TextArgs,
  content: string,
  finish: 'stop' | 'length',
  promptTokens: number,
  completionTokens: number,
): ChatCompletion {
  return {
    id: completionId(m, a),
    object: 'chat.completion',
    created: 0,
    model: m.id,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finish }],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  }
}

export interface TextRunOptions extends RunnerOptions {
  model?: string
  /** Called with each piece of content as it is generated (UTF-8 bytes; a character may span pieces). */
  onToken?: (bytes: Uint8Array) => void
}

export async function runTextTask(args: unknown, modelDir: string, opts: TextRunOptions = {}): Promise<TextTaskResult> {
  const a = validateTextArgs(args)
  const m = await resolveModel(modelDir, opts.model ?? a.model, 'text')
  // A KV-cache decoder with a BPE tokenizer (a converted GGUF such as SmolLM2), or the byte-level model.
  if ((m.config.tokenizer as { type?: string } | undefined)?.type === 'gpt2-bpe') {
    const g = await generateKv(a, modelDir, m, opts)
    // completion_tokens counts the generated tokens, without the end-of-turn token.
    const completion = completionOf(m, a, new TextDecoder('utf-8', { fatal: false }).decode(g.bytes), g.finish, g.promptTokens, g.tokens.length)
    return { json: utf8.encode(JSON.stringify(completion)), completion, model: m.id, provider: g.provider, args: a }
  }
  const tok = parseTokenizer(m.config.tokenizer)
  const ctx = m.config.context_length
  if (!Number.isInteger(ctx)) throw new Error(`model ${m.id}: config.context_length missing`)
  const { session, provider } = await getSession(componentPath(modelDir, m, 'model'), opts)
  const inputName = session.inputNames[0]!

  const prompt = encodeChat(a.messages, tok)
  if (prompt.length + a.max_new_tokens > (ctx as number)) {
    throw new Error(`prompt is ${prompt.length} tokens; with max_new_tokens ${a.max_new_tokens} that exceeds the model's context of ${ctx} tokens`)
  }
  const ids = [...prompt]
  const out: number[] = []
  const stops = (a.stop ?? []).map((x) => utf8.encode(x))
  const rng = new HashStream('beryl/text-task/sampling/v1', a.seed)
  let finish: 'stop' | 'length' = 'length'
  for (let step = 0; step < a.max_new_tokens; step++) {
    const feed = new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length])
    const res = await session.run({ [inputName]: feed })
    const logits = outputTensor(res, session, 'logits')
    const V = logits.dims[2]!
    const row = (logits.data as Float32Array).subarray((ids.length - 1) * V, ids.length * V)
    const next = a.temperature === 0 ? argmax(row) : sample(row, a.temperature, a.top_p, rng)
    // Any special token ends the turn: only EOS is meant to, but an untrained
    // or foreign model may emit a role or BOS token, which has no text form.
    if (next >= 256) {
      finish = 'stop'
      break
    }
    out.push(next)
    ids.push(next)
    const hit = stops.find((s) => s.length <= out.length && s.every((b, i) => out[out.length - s.length + i] === b))
    if (hit) {
      out.length -= hit.length
      finish = 'stop'
      break
    }
  }
  const content = new TextDecoder('utf-8', { fatal: false }).decode(Uint8Array.from(out))
  // completion_tokens counts the tokens that became content; the stop token is not counted.
  const completion = completionOf(m, a, content, finish, prompt.length, out.length)
  return { json: utf8.encode(JSON.stringify(completion)), completion, model: m.id, provider, args: a }
}
