// Byte-level BPE (GPT-2's scheme), with the pre-tokenizer rules a model's GGUF names in
// `tokenizer.ggml.pre`. Implemented from the format, not from any library:
//
// 1. Pre-tokenize. `smollm` first splits every numeric character (\p{N}) off on its own, then
//    splits each remaining piece with GPT-2's pattern
//      's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//    (`gpt2` skips the digit step). "Whitespace" is Unicode's White_Space set, written out below
//    rather than JS's \s, which differs from it in U+0085 and U+FEFF.
// 2. Map each piece's UTF-8 bytes to printable characters with GPT-2's byte table (printable
//    Latin-1 bytes stand for themselves, the other 68 bytes for U+0100 onwards, in byte order).
// 3. Merge: repeatedly join the adjacent pair of lowest merge rank, until no pair has a rank;
//    every resulting symbol is a vocabulary token.
//
// Decoding maps tokens back to bytes; control tokens (type 3) have no text. The tokens, their
// types and the merges come from the model (tokenizer.json, written from the GGUF's metadata).

export interface ByteBpeData {
  type: 'gpt2-bpe'
  pre: 'smollm' | 'gpt2'
  tokens: string[]
  /** llama.cpp token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte. */
  token_types: number[]
  merges: string[]
}

export const TOKEN_TYPE_CONTROL = 3

const WS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'
const GPT2_PATTERN = new RegExp(`'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|[${WS}]+(?![^${WS}])|[${WS}]+`, 'gu')
const DIGIT = /\p{N}/gu

function byteTable(): { toChar: string[]; toByte: Map<string, number> } {
  const toChar: string[] = new Array(256)
  let n = 0
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff)
    toChar[b] = String.fromCodePoint(printable ? b : 256 + n++)
  }
  return { toChar, toByte: new Map(toChar.map((c, b) => [c, b])) }
}

const BYTES = byteTable()
const utf8 = new TextEncoder()

/** The pieces BPE runs on, in order (their concatenation is the input). */
export function preTokenize(text: string, pre: ByteBpeData['pre']): string[] {
  const pieces = pre === 'smollm' ? splitDigits(text) : [text]
  const out: string[] = []
  for (const p of pieces) {
    let last = 0
    for (const m of p.matchAll(GPT2_PATTERN)) {
      // The pattern matches every character; a gap would be text the model never saw.
      if (m.index! > last) out.push(p.slice(last, m.index))
      out.push(m[0])
      last = m.index! + m[0].length
    }
    if (last < p.length) out.push(p.slice(last))
  }
  return out
}

function splitDigits(text: string): string[] {
  const out: string[] = []
  let last = 0
  for (const m of text.matchAll(DIGIT)) {
    if (m.index! > last) out.push(text.slice(last, m.index))
    out.push(m[0])
    last = m.index! + m[0].length
  }
  if (last < text.length) out.push(text.slice(last))
  return out
}

export class ByteLevelBpe {
  readonly vocabSize: number
  private readonly ids = new Map<string, number>()
  private readonly ranks = new Map<string, number>()
  private readonly cache = new Map<string, number[]>()

  constructor(readonly data: ByteBpeData) {
    if (data.type !== 'gpt2-bpe') throw new Error(`tokenizer type ${JSON.stringify(data.type)} is not gpt2-bpe`)
    if (data.pre !== 'smollm' && data.pre !== 'gpt2') throw new Error(`pre-tokenizer ${JSON.stringify(data.pre)} is not supported (smollm, gpt2)`)
    if (data.tokens.length !== data.token_types.length) throw new Error('tokenizer: tokens and token_types differ in length')
    this.vocabSize = data.tokens.length
    data.tokens.forEach((t, i) => {
      if (data.token_types[i] !== TOKEN_TYPE_CONTROL && !this.ids.has(t)) this.ids.set(t, i)
    })
    data.merges.forEach((m, i) => this.ranks.set(m, i))
  }

  /** The id of a control token by its text (e.g. "<|im_start|>"). */
  controlId(text: string): number {
    const i = this.data.tokens.indexOf(text)
    if (i < 0 || this.data.token_types[i] !== TOKEN_TYPE_CONTROL) throw new Error(`tokenizer has no control token ${text}`)
    return i
  }

  isControl(id: number): boolean {
    return this.data.token_types[id] === TOKEN_TYPE_CONTROL
  }

  /** Plain text to ids. Text that looks like a control token is encoded as text. */
  encode(text: string): number[] {
    const out: number[] = []
    for (const piece of preTokenize(text, this.data.pre)) {
      let ids = this.cache.get(piece)
      if (!ids) {
        ids = this.bpe(piece)
        if (this.cache.size > 50_000) this.cache.clear()
        this.cache.set(piece, ids)
      }
      for (const id of ids) out.push(id)
    }
    return out
  }

  private bpe(piece: string): number[] {
    let symbols = Array.from(utf8.encode(piece), (b) => BYTES.toChar[b]!)
    while (symbols.length > 1) {
      let best = -1
      let bestRank = Infinity
      for (let i = 0; i < symbols.length - 1; i++) {
        const r = this.ranks.get(`${symbols[i]} ${symbols[i + 1]}`)
        if (r !== undefined && r < bestRank) {
          bestRank = r
          best = i
        }
      }
      if (best < 0) break
      const a = symbols[best]!,
        b = symbols[best + 1]!
      const next: string[] = []
      for (let i = 0; i < symbols.length; i++) {
        if (i < symbols.length - 1 && symbols[i] === a && symbols[i + 1] === b) {
          next.push(a + b)
          i++
        } else next.push(symbols[i]!)
      }
      symbols = next
    }
    return symbols.map((s) => {
      const id = this.ids.get(s)
      if (id === undefined) throw new Error(`tokenizer: no token for ${JSON.stringify(s)} (an incomplete vocabulary)`)
      return id
    })
  }

  /** The bytes a token stands for (none for a control token). */
  tokenBytes(id: number): Uint8Array {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new Error(`token id ${id} is out of range`)
    if (this.isControl(id)) return new Uint8Array(0)
    const t = this.data.tokens[id]!
    const out: number[] = []
    for (const ch of t) {
      const b = BYTES.toByte.get(ch)
      if (b === undefined) {
        for (const x of utf8.encode(ch)) out.push(x)
      } else out.push(b)
    }
    return Uint8Array.from(out)
  }

  decodeBytes(ids: number[]): Uint8Array {
    const parts = ids.map((i) => this.tokenBytes(i))
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0))
    let o = 0
    for (const p of parts) {
      out.set(p, o)
      o += p.length
    }
    return out
  }

  decode(ids: number[]): string {
    return new TextDecoder('utf-8', { fatal: false }).decode(this.decodeBytes(ids))
  }
}
