// Task argument schemas and their validation.
//
// The schemas are plain JSON Schema objects (a small subset), exported so the
// SDK and docs can publish exactly what the worker enforces. The validator
// below interprets only that subset. Unknown fields are rejected rather than
// ignored: a creator who sets a parameter the runner does not implement
// would otherwise get a result computed without it, and validators would
// agree on it anyway, so the mistake would go unnoticed.

export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean'
  description?: string
  properties?: Record<string, JsonSchema>
  required?: string[]
  additionalProperties?: boolean
  items?: JsonSchema
  minItems?: number
  maxItems?: number
  minLength?: number
  maxLength?: number
  pattern?: string
  enum?: readonly (string | number)[]
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  multipleOf?: number
  default?: unknown
}

export class ArgsError extends Error {
  constructor(
    readonly task: 'image' | 'text',
    readonly problems: string[],
  ) {
    super(`invalid ${task} task args: ${problems.join('; ')}`)
    this.name = 'ArgsError'
  }
}

const MAX_SEED = Number.MAX_SAFE_INTEGER // 2^53 − 1: the largest integer JSON round-trips exactly in JS
const MODEL_ID = { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'Model id (sha256 hex); the bundled model of the kind when absent.' } as const

export const IMAGE_LIMITS = { minSide: 64, maxSide: 1024, maxSteps: 100, maxImages: 4, maxPrompt: 2000, maxGuidance: 30 } as const

export const imageArgsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['prompt'],
  properties: {
    prompt: { type: 'string', maxLength: IMAGE_LIMITS.maxPrompt },
    negative_prompt: { type: 'string', maxLength: IMAGE_LIMITS.maxPrompt, default: '' },
    width: { type: 'integer', minimum: IMAGE_LIMITS.minSide, maximum: IMAGE_LIMITS.maxSide, multipleOf: 8, default: 256 },
    height: { type: 'integer', minimum: IMAGE_LIMITS.minSide, maximum: IMAGE_LIMITS.maxSide, multipleOf: 8, default: 256 },
    steps: { type: 'integer', minimum: 1, maximum: IMAGE_LIMITS.maxSteps, default: 20 },
    seed: { type: 'integer', minimum: 0, maximum: MAX_SEED, default: 0 },
    num_images: { type: 'integer', minimum: 1, maximum: IMAGE_LIMITS.maxImages, default: 1 },
    guidance_scale: { type: 'number', minimum: 0, maximum: IMAGE_LIMITS.maxGuidance, default: 7.5 },
    model: MODEL_ID,
  },
}

export const TEXT_LIMITS = { maxMessages: 64, maxContent: 8000, maxNewTokens: 512, maxTemperature: 2, maxStops: 4, maxStopLength: 64 } as const

export const textArgsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    messages: {
      type: 'array',
      minItems: 1,
      maxItems: TEXT_LIMITS.maxMessages,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['role', 'content'],
        properties: {
          role: { type: 'string', enum: ['system', 'user', 'assistant'] },
          content: { type: 'string', maxLength: TEXT_LIMITS.maxContent },
        },
      },
    },
    prompt: { type: 'string', maxLength: TEXT_LIMITS.maxContent, description: 'Shorthand for messages: [{role: "user", content: prompt}].' },
    max_new_tokens: { type: 'integer', minimum: 1, maximum: TEXT_LIMITS.maxNewTokens, default: 64 },
    temperature: { type: 'number', minimum: 0, maximum: TEXT_LIMITS.maxTemperature, default: 0, description: '0 means greedy decoding.' },
    top_p: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 1 },
    seed: { type: 'integer', minimum: 0, maximum: MAX_SEED, default: 0 },
    stop: {
      type: 'array',
      maxItems: TEXT_LIMITS.maxStops,
      items: { type: 'string', minLength: 1, maxLength: TEXT_LIMITS.maxStopLength },
      description: 'Generation ends before the first of these strings; the content excludes it.',
    },
    model: MODEL_ID,
  },
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'string') return v.length > 40 ? `a string of ${[...v].length} chars` : JSON.stringify(v)
  if (typeof v === 'number') return String(v)
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`
}

/** Collects every violation (not just the first) as "<path> <rule> (got <value>)". */
export function checkSchema(schema: JsonSchema, value: unknown, path: string, out: string[]): void {
  const at = path || 'args'
  const t = schema.type
  if (t === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      out.push(`${at} must be an object (got ${describe(value)})`)
      return
    }
    const o = value as Record<string, unknown>
    for (const k of schema.required ?? []) if (o[k] === undefined) out.push(`${path ? `${path}.` : ''}${k} is required`)
    for (const k of Object.keys(o)) {
      const sub = schema.properties?.[k]
      const p = path ? `${path}.${k}` : k
      if (!sub) {
        if (schema.additionalProperties === false) out.push(`${p} is not a known field`)
        continue
      }
      if (o[k] !== undefined) checkSchema(sub, o[k], p, out)
    }
    return
  }
  if (t === 'array') {
    if (!Array.isArray(value)) {
      out.push(`${at} must be an array (got ${describe(value)})`)
      return
    }
    if (schema.minItems !== undefined && value.length < schema.minItems) out.push(`${at} must have at least ${schema.minItems} item(s) (got ${value.length})`)
    if (schema.maxItems !== undefined && value.length > schema.maxItems) out.push(`${at} must have at most ${schema.maxItems} items (got ${value.length})`)
    if (schema.items) value.forEach((v, i) => checkSchema(schema.items!, v, `${at}[${i}]`, out))
    return
  }
  if (t === 'string') {
    if (typeof value !== 'string') {
      out.push(`${at} must be a string (got ${describe(value)})`)
      return
    }
    const len = [...value].length // code points, as JSON Schema counts
    if (schema.minLength !== undefined && len < schema.minLength) out.push(`${at} must be at least ${schema.minLength} characters (got ${len})`)
    if (schema.maxLength !== undefined && len > schema.maxLength) out.push(`${at} must be at most ${schema.maxLength} characters (got ${len})`)
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) out.push(`${at} must match ${schema.pattern} (got ${describe(value)})`)
    if (schema.enum && !schema.enum.includes(value))
      out.push(`${at} must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')} (got ${describe(value)})`)
    return
  }
  if (t === 'integer' || t === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      out.push(`${at} must be a finite number (got ${describe(value)})`)
      return
    }
    if (t === 'integer' && !Number.isInteger(value)) {
      out.push(`${at} must be an integer (got ${value})`)
      return
    }
    if (schema.minimum !== undefined && value < schema.minimum) out.push(`${at} must be ≥ ${schema.minimum} (got ${value})`)
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) out.push(`${at} must be > ${schema.exclusiveMinimum} (got ${value})`)
    if (schema.maximum !== undefined && value > schema.maximum) out.push(`${at} must be ≤ ${schema.maximum} (got ${value})`)
    if (schema.multipleOf !== undefined && value % schema.multipleOf !== 0) out.push(`${at} must be a multiple of ${schema.multipleOf} (got ${value})`)
    return
  }
  if (t === 'boolean' && typeof value !== 'boolean') out.push(`${at} must be a boolean (got ${describe(value)})`)
}

function withDefaults(schema: JsonSchema, o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, s] of Object.entries(schema.properties ?? {})) {
    if (o[k] !== undefined) out[k] = o[k]
    else if (s.default !== undefined) out[k] = s.default
  }
  return out
}

export interface ImageArgs {
  prompt: string
  negative_prompt: string
  width: number
  height: number
  steps: number
  seed: number
  num_images: number
  guidance_scale: number
  model?: string
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

export interface TextArgs {
  messages: ChatMessage[]
  max_new_tokens: number
  temperature: number
  top_p: number
  seed: number
  /** Stop sequences (none when absent). */
  stop?: string[]
  model?: string
}

/** Validates and returns the args with defaults filled in; throws ArgsError naming every bad field. */
export function validateImageArgs(args: unknown): ImageArgs {
  const problems: string[] = []
  checkSchema(imageArgsSchema, args, '', problems)
  if (problems.length) throw new ArgsError('image', problems)
  return withDefaults(imageArgsSchema, args as Record<string, unknown>) as unknown as ImageArgs
}

/**
 * As validateImageArgs. Exactly one of `messages` and `prompt` must be given;
 * a prompt becomes a single user message, so both spellings of the same
 * request produce the same output bytes.
 */
export function validateTextArgs(args: unknown): TextArgs {
  const problems: string[] = []
  checkSchema(textArgsSchema, args, '', problems)
  if (!problems.length) {
    const o = args as Record<string, unknown>
    if (o.messages === undefined && o.prompt === undefined) problems.push('one of messages or prompt is required')
    if (o.messages !== undefined && o.prompt !== undefined) problems.push('give either messages or prompt, not both')
  }
  if (problems.length) throw new ArgsError('text', problems)
  const o = withDefaults(textArgsSchema, args as Record<string, unknown>)
  const messages = (o.messages as ChatMessage[] | undefined)?.map((m) => ({ role: m.role, content: m.content })) ?? [
    { role: 'user' as const, content: o.prompt as string },
  ]
  delete o.prompt
  return { ...o, messages } as unknown as TextArgs
}
