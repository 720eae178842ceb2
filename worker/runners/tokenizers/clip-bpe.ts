// CLIP's BPE tokenizer (the text side of Stable Diffusion), implemented from the algorithm of OpenAI's reference
// tokenizer and read from a diffusers export's `tokenizer/vocab.json` and `tokenizer/merges.txt`:
//
// 1. Normalise: a subset of ftfy's fix_text (NFC, Latin ligatures, full-width forms, curly quotes, line breaks,
//    control characters), HTML entities unescaped, whitespace runs collapsed to one space, trimmed, lower-cased.
// 2. Split with CLIP's pattern: <|startoftext|>, <|endoftext|>, 's 't 're 've 'm 'll 'd, letter runs, single
//    numeric characters, runs of other non-space characters.
// 3. Per piece: its UTF-8 bytes as GPT-2's printable byte characters, "</w>" appended to the last one, then the
//    merges in rank order; ids from the vocabulary.
// 4. The prompt: start token, the ids (cut to max_length − 2), end token, then padding to max_length (77) with the
//    pad token the export names (SD 1.x pads with <|endoftext|>, SD 2.x with "!").
//
// ftfy's mojibake repair (re-decoding text that went through the wrong code page) is not reproduced: prompts are
// assumed to be well-formed text.

export interface ClipTokenizerConfig {
  type: 'clip-bpe'
  vocab: string
  merges: string
  max_length: number
  bos: number
  eos: number
  pad: number
}

const LIGATURES: Record<string, string> = {
  Ĳ: 'IJ',
  ĳ: 'ij',
  ŉ: 'ʼn',
  Ǆ: 'DŽ',
  ǅ: 'Dž',
  ǆ: 'dž',
  Ǉ: 'LJ',
  ǈ: 'Lj',
  ǉ: 'lj',
  Ǌ: 'NJ',
  ǋ: 'Nj',
  ǌ: 'nj',
  ﬀ: 'ff',
  ﬁ: 'fi',
  ﬂ: 'fl',
  ﬃ: 'ffi',
  ﬄ: 'ffl',
  ﬅ: 'ſt',
  ﬆ: 'st',
}
const ENTITIES: Record<string, string> = { amp: '&', AMP: '&', lt: '<', LT: '<', gt: '>', GT: '>', quot: '"', QUOT: '"', apos: "'", nbsp: '\u00a0' }
// Python's \s for str patterns: Unicode whitespace plus the ASCII separators \x1c–\x1f.
const PY_WS = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'
const PATTERN = new RegExp(`<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|[^${PY_WS}\\p{L}\\p{N}]+`, 'gu')

function htmlUnescape(s: string): string {
  return s.replace(/&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);/g, (m, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)
      return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : m
    }
    return ENTITIES[e] ?? m
  })
}

/** CLIP's text normalisation (see the header for what of ftfy it covers). */
export function clipNormalize(text: string): string {
  let s = text.normalize('NFC')
  s = s.replace(/[\u0132\u0133\u0149\u01c4-\u01cc\ufb00-\ufb06]/g, (c) => LIGATURES[c] ?? c)
  // Full-width ASCII and the ideographic space become ASCII; half-width forms take their NFKC form.
  s = s.replace(/[\u3000\uff01-\uff5e\uff61-\uffdc\uffe8-\uffee]/g, (c) => c.normalize('NFKC'))
  s = s.replace(/[\u02bc\u2018-\u201b]/g, "'").replace(/[\u201c-\u201f]/g, '"')
  s = s.replace(/\r\n|[\r\u2028\u2029\u0085]/g, '\n')
  s = s.replace(/[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g, '')
  s = htmlUnescape(htmlUnescape(s)).trim()
  return s
    .replace(new RegExp(`[${PY_WS}]+`, 'g'), ' ')
    .trim()
    .toLowerCase()
}

function byteChars(): string[] {
  const out: string[] = new Array(256)
  let n = 0
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff)
    out[b] = String.fromCodePoint(printable ? b : 256 + n++)
  }
  return out
}
const BYTE_CHARS = byteChars()
const utf8 = new TextEncoder()

export class ClipBpe {
  private readonly ranks = new Map<string, number>()
  private readonly cache = new Map<string, number[]>()

  /** `vocab`: vocab.json's token → id; `merges`: merges.txt's text (a "#version" first line is skipped). */
  constructor(
    private readonly vocab: Record<string, number>,
    merges: string,
  ) {
    let rank = 0
    for (const line of merges.split('\n')) {
      if (!line || line.startsWith('#version')) continue
      this.ranks.set(line, rank++)
    }
  }

  private id(tok: string): number {
    const id = this.vocab[tok]
    if (id === undefined) throw new Error(`CLIP tokenizer: ${JSON.stringify(tok)} is not in vocab.json`)
    return id
  }

  /** Normalised text to ids, without start/end tokens. */
  encode(text: string): number[] {
    const out: number[] = []
    for (const m of clipNormalize(text).matchAll(PATTERN)) {
      const piece = m[0]
      if (piece === '<|startoftext|>' || piece === '<|endoftext|>') {
        out.push(this.id(piece))
        continue
      }
      let ids = this.cache.get(piece)
      if (!ids) {
        ids = this.bpe(piece)
        if (this.cache.size > 20_000) this.cache.clear()
        this.cache.set(piece, ids)
      }
      out.push(...ids)
    }
    return out
  }

  private bpe(piece: string): number[] {
    const chars = Array.from(utf8.encode(piece), (b) => BYTE_CHARS[b]!)
    chars[chars.length - 1] += '</w>'
    let word = chars
    while (word.length > 1) {
      let best = -1,
        bestRank = Infinity
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`)
        if (r !== undefined && r < bestRank) {
          bestRank = r
          best = i
        }
      }
      if (best < 0) break
      const a = word[best]!,
        b = word[best + 1]!
      const next: string[] = []
      for (let i = 0; i < word.length; i++) {
        if (i < word.length - 1 && word[i] === a && word[i + 1] === b) {
          next.push(a + b)
          i++
        } else next.push(word[i]!)
      }
      word = next
    }
    return word.map((t) => this.id(t))
  }

  /** Start token, ids (cut to fit), end token, padding: the text encoder's input. */
  prompt(text: string, c: Pick<ClipTokenizerConfig, 'max_length' | 'bos' | 'eos' | 'pad'>): number[] {
    const ids = [c.bos, ...this.encode(text).slice(0, c.max_length - 2), c.eos]
    while (ids.length < c.max_length) ids.push(c.pad)
    return ids
  }
}
