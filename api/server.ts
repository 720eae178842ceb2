// An OpenAI-compatible HTTP API whose every answer is a verified Beryl task.
//
// | route | what |
// |---|---|
// | GET  /v1/models | models that at least 3 available-or-busy nodes serve (a task needs 3, docs/decisions/0011) |
// | POST /v1/chat/completions | a text task; `stream: true` sends OpenAI's chunks as server-sent events once it is verified |
// | POST /v1/completions | the prompt as one user message of a text task, in the text_completion shape |
// | POST /v1/images/generations | an image task; `b64_json`, or a `url` this server serves for an hour |
//
// It is an application of the chain: it only uses the SDK's public entry (BerylClient.runTask and
// typed queries). Each API key maps to a keyring account with a daily spend limit; an account runs
// one task at a time (its transactions carry sequence numbers), so a key's concurrent requests queue
// up to a bound. Errors have OpenAI's shape and status codes.
import { createHash, randomInt } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { OfflineDirectSigner } from '@cosmjs/proto-signing'
import { BerylClient, type Progress, type TaskResult } from '../sdk/index.ts'
import type { ApiConfig, ApiKey, ApiModel } from './config.ts'
import { sha256Hex } from './config.ts'

const MIN_SERVING_NODES = 3
const TEXT_MAX_NEW_TOKENS = 512
const IMAGE_TTL_MS = 3_600_000
const IMAGE_CACHE = 256
/**
 * A task's output is deterministic in its args (seed included), so an identical request within an hour is answered
 * from the earlier verified task instead of paying for the same bytes again.
 */
const REUSE_MS = 3_600_000
const REUSE_CACHE = 1024

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }

  body() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } }
  }
}

const invalid = (message: string, param: string | null = null, code: string | null = null) => new ApiError(400, message, 'invalid_request_error', code, param)

interface Spend {
  day: string
  spent: bigint
  reserved: bigint
  inFlight: number
}

/** What the API uses of a chain client: the verified-task flow and the node list (tests stand one in). */
export type ChainClient = Pick<BerylClient, 'runTask' | 'query' | 'disconnect'>

export interface ApiServerOptions {
  config: ApiConfig
  /** A signer per keyring account named in the config's keys. */
  signers: Map<string, OfflineDirectSigner>
  /** Where the SDK keeps task secrets (one folder per account is made inside). */
  keyStoreDir: string
  log?: (m: string) => void
  /** The clock, for the daily budget (tests move it). */
  now?: () => number
  /** How an account's chain client is made (default: BerylClient.connect to config.node with config.gateways). */
  connect?: (account: string, signer: OfflineDirectSigner) => Promise<ChainClient>
}

/** One mutex per account: its tasks run one after another. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve()
  run<T>(f: () => Promise<T>): Promise<T> {
    const p = this.tail.then(f, f)
    this.tail = p.catch(() => {})
    return p
  }
}

export class ApiServer {
  readonly app: FastifyInstance
  private readonly clients = new Map<string, Promise<ChainClient>>()
  private readonly serial = new Map<string, Serial>()
  private readonly spend = new Map<string, Spend>()
  private readonly images = new Map<string, { png: Uint8Array; expires: number }>()
  private readonly recent = new Map<string, { r: TaskResult; at: number }>()
  private readonly now: () => number

  constructor(private readonly o: ApiServerOptions) {
    this.now = o.now ?? Date.now
    for (const k of o.config.keys) if (!o.signers.has(k.account)) throw new Error(`api key ${k.name}: no signer for account ${k.account}`)
    this.app = Fastify({ bodyLimit: o.config.bodyLimitBytes, logger: false })
    this.routes()
  }

  async listen(): Promise<string> {
    return this.app.listen({ host: this.o.config.listen.host, port: this.o.config.listen.port })
  }

  async close(): Promise<void> {
    await this.app.close()
    for (const c of this.clients.values()) (await c.catch(() => undefined))?.disconnect()
  }

  // ---- auth, budget, concurrency ------------------------------------------------------------

  private authenticate(req: FastifyRequest): ApiKey {
    const h = req.headers.authorization ?? ''
    const m = /^Bearer\s+(\S+)$/i.exec(h)
    if (!m) throw new ApiError(401, 'You didn\'t provide an API key. Send it as "Authorization: Bearer <key>".', 'invalid_request_error', 'missing_api_key')
    const sha = sha256Hex(m[1]!)
    const key = this.o.config.keys.find((k) => k.sha256 === sha)
    if (!key) throw new ApiError(401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key')
    return key
  }

  private day(): { day: string; resetsAt: Date } {
    const d = new Date(this.now())
    const day = d.toISOString().slice(0, 10)
    return { day, resetsAt: new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)) }
  }

  private spendOf(key: ApiKey): Spend {
    const { day } = this.day()
    let s = this.spend.get(key.sha256)
    if (!s || s.day !== day) {
      s = { day, spent: 0n, reserved: 0n, inFlight: s?.inFlight ?? 0 }
      this.spend.set(key.sha256, s)
    }
    return s
  }

  /**
   * Admits a request: within the key's concurrency bound, and within its daily limit counting what
   * in-flight requests may still spend (a task's fee plus a margin for transaction fees).
   */
  private async admitted<T>(key: ApiKey, f: (client: ChainClient) => Promise<T>): Promise<T> {
    const s = this.spendOf(key)
    if (s.inFlight >= this.o.config.maxConcurrentPerKey) {
      throw new ApiError(
        429,
        `Too many concurrent requests for this key (at most ${this.o.config.maxConcurrentPerKey}).`,
        'rate_limit_exceeded',
        'rate_limit_exceeded',
        null,
        { 'retry-after': '1' },
      )
    }
    const cost = this.o.config.fee + 100_000n
    if (s.spent + s.reserved + cost > key.dailyLimit) {
      const { resetsAt } = this.day()
      throw new ApiError(
        429,
        `This key's daily budget of ${key.dailyLimit} uberyl is spent (${s.spent} uberyl today, a request may cost ${cost}); it resets at ${resetsAt.toISOString()}.`,
        'insufficient_quota',
        'insufficient_quota',
        null,
        { 'retry-after': String(Math.ceil((resetsAt.getTime() - this.now()) / 1000)), 'x-beryl-budget-reset': resetsAt.toISOString() },
      )
    }
    s.inFlight++
    s.reserved += cost
    try {
      return await this.serialFor(key.account).run(async () => f(await this.client(key.account)))
    } finally {
      s.inFlight--
      s.reserved -= cost
    }
  }

  /** A verified task for these args: an earlier identical one of the same account (within the window), or a new one. */
  private async execute(
    key: ApiKey,
    type: 'text' | 'image',
    args: object,
    model: ApiModel,
    onProgress?: (p: Progress) => void,
  ): Promise<{ r: TaskResult; reused: boolean }> {
    const id = `${key.account}\0${type}\0${JSON.stringify(args)}`
    const hit = this.recent.get(id)
    if (hit && this.now() - hit.at < REUSE_MS) {
      this.authorizeOnly(key)
      return { r: hit.r, reused: true }
    }
    const r = await this.admitted(key, (c) => this.run(c, type, args, model, onProgress))
    this.spendOf(key).spent += r.feePaid + r.txFees
    if (this.recent.size >= REUSE_CACHE) this.recent.delete(this.recent.keys().next().value!)
    this.recent.set(id, { r, at: this.now() })
    return { r, reused: false }
  }

  /** A reused answer costs nothing, but an exhausted key still gets its 429. */
  private authorizeOnly(key: ApiKey): void {
    const s = this.spendOf(key)
    if (s.spent >= key.dailyLimit) {
      const { resetsAt } = this.day()
      throw new ApiError(
        429,
        `This key's daily budget of ${key.dailyLimit} uberyl is spent; it resets at ${resetsAt.toISOString()}.`,
        'insufficient_quota',
        'insufficient_quota',
        null,
        { 'retry-after': String(Math.ceil((resetsAt.getTime() - this.now()) / 1000)), 'x-beryl-budget-reset': resetsAt.toISOString() },
      )
    }
  }

  private serialFor(account: string): Serial {
    let s = this.serial.get(account)
    if (!s) {
      s = new Serial()
      this.serial.set(account, s)
    }
    return s
  }

  private client(account: string): Promise<ChainClient> {
    let c = this.clients.get(account)
    if (!c) {
      const signer = this.o.signers.get(account)!
      c = this.o.connect
        ? this.o.connect(account, signer)
        : BerylClient.connect(this.o.config.node, signer, {
            gateways: this.o.config.gateways,
            keyStoreDir: `${this.o.keyStoreDir}/${account}`,
          })
      this.clients.set(account, c)
      c.catch(() => this.clients.delete(account))
    }
    return c
  }

  // ---- models ---------------------------------------------------------------------------------

  /** Serving-node counts per model id (available or busy nodes). */
  private async servingCounts(): Promise<Map<string, number>> {
    const client = await this.client(this.o.config.keys[0]?.account ?? '')
    const counts = new Map<string, number>()
    let key: Uint8Array = new Uint8Array(0)
    for (let page = 0; page < 100; page++) {
      const r = await client.query.staking.nodes({ key, limit: 200 })
      for (const n of r.nodes) {
        if (n.status !== 1 && n.status !== 2) continue
        for (const id of n.modelIds) counts.set(id, (counts.get(id) ?? 0) + 1)
      }
      if (!r.nextKey.length) break
      key = r.nextKey
    }
    return counts
  }

  /** The model a request names: a configured name or a model id, served by enough nodes. */
  private async resolveModel(name: unknown, kind: 'text' | 'image', fallback?: string): Promise<ApiModel> {
    const wanted = name === undefined || name === null ? fallback : name
    if (typeof wanted !== 'string' || !wanted) throw invalid('you must provide a model parameter', 'model')
    const known = this.o.config.models.find((m) => m.name === wanted || m.id === wanted)
    const model: ApiModel | undefined = known ?? (/^[0-9a-f]{64}$/.test(wanted) ? { name: wanted, id: wanted, kind } : undefined)
    const serving = model ? ((await this.servingCounts()).get(model.id) ?? 0) : 0
    if (!model || serving < MIN_SERVING_NODES) {
      throw new ApiError(
        404,
        `The model \`${wanted}\` does not exist or is not served by at least ${MIN_SERVING_NODES} nodes.`,
        'invalid_request_error',
        'model_not_found',
        'model',
      )
    }
    if (model.kind !== kind) throw invalid(`The model \`${wanted}\` is a ${model.kind} model; this endpoint needs a ${kind} model.`, 'model')
    return model
  }

  // ---- routes ---------------------------------------------------------------------------------

  private routes(): void {
    const app = this.app
    app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
      if (err instanceof ApiError) return void reply.code(err.status).headers(err.headers).send(err.body())
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
        return void reply
          .code(413)
          .send(
            new ApiError(413, `The request body is larger than ${this.o.config.bodyLimitBytes} bytes.`, 'invalid_request_error', 'request_too_large').body(),
          )
      if (err.statusCode && err.statusCode < 500) return void reply.code(err.statusCode).send(invalid(`Malformed request: ${err.message}`).body())
      this.o.log?.(`api: ${err.stack ?? err.message}`)
      return void reply.code(500).send(new ApiError(500, err.message, 'server_error', 'task_failed').body())
    })
    app.setNotFoundHandler((req, reply) => {
      void reply.code(404).send(new ApiError(404, `Unknown request URL: ${req.method} ${req.url}.`, 'invalid_request_error', 'unknown_url').body())
    })

    app.get('/v1/models', async (req) => {
      this.authenticate(req)
      const counts = await this.servingCounts()
      const named = new Map(this.o.config.models.map((m) => [m.id, m]))
      const data = [...counts]
        .filter(([, n]) => n >= MIN_SERVING_NODES)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([id, n]) => ({
          id: named.get(id)?.name ?? id,
          object: 'model',
          created: 0,
          owned_by: 'beryl',
          beryl: { model_id: id, kind: named.get(id)?.kind ?? null, serving_nodes: n },
        }))
      return { object: 'list', data }
    })

    app.post('/v1/chat/completions', async (req, reply) => {
      const key = this.authenticate(req)
      const b = body(req)
      const messages = chatMessages(b.messages)
      return this.text(key, b, messages, reply, 'chat')
    })

    app.post('/v1/completions', async (req, reply) => {
      const key = this.authenticate(req)
      const b = body(req)
      const p = Array.isArray(b.prompt) && b.prompt.length === 1 ? b.prompt[0] : b.prompt
      if (typeof p !== 'string') throw invalid('prompt must be a string (one prompt per request)', 'prompt')
      if (b.stream) throw invalid('stream is supported on /v1/chat/completions only', 'stream')
      return this.text(key, b, [{ role: 'user', content: p }], reply, 'completion')
    })

    app.post('/v1/images/generations', async (req) => {
      const key = this.authenticate(req)
      const b = body(req)
      if (typeof b.prompt !== 'string' || !b.prompt) throw invalid('prompt is required', 'prompt')
      const n = b.n ?? 1
      if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 4) throw invalid('n must be an integer from 1 to 4', 'n')
      const size = typeof b.size === 'string' ? /^(\d+)x(\d+)$/.exec(b.size) : b.size === undefined ? ['', '256', '256'] : null
      if (!size) throw invalid('size must be "WIDTHxHEIGHT", e.g. "256x256"', 'size')
      const format = b.response_format ?? 'url'
      if (format !== 'url' && format !== 'b64_json') throw invalid('response_format must be "url" or "b64_json"', 'response_format')
      const defaultImage = this.o.config.models.find((m) => m.kind === 'image')?.name
      const model = await this.resolveModel(b.model, 'image', defaultImage)
      const args = {
        prompt: b.prompt,
        width: Number(size[1]),
        height: Number(size[2]),
        num_images: n,
        steps: optionalInt(b.steps, 'steps') ?? 20,
        seed: optionalInt(b.seed, 'seed') ?? randomInt(0, 2 ** 47),
        model: model.id,
      }
      const { r, reused } = await this.execute(key, 'image', args, model)
      const data = r.outputs.map((png) => {
        if (format === 'b64_json') return { b64_json: Buffer.from(png).toString('base64') }
        const name = `${createHash('sha256').update(png).digest('hex')}.png`
        this.keepImage(name, png)
        return { url: `${this.publicUrl()}/v1/images/files/${name}` }
      })
      return { created: Math.floor(this.now() / 1000), data, beryl: berylField(r, model, args.seed, reused) }
    })

    app.get('/v1/images/files/:name', async (req, reply) => {
      const name = (req.params as { name: string }).name
      const img = this.images.get(name)
      if (!img || img.expires < this.now()) throw new ApiError(404, 'No such image (URLs last an hour).', 'invalid_request_error', 'not_found')
      return reply.type('image/png').send(Buffer.from(img.png))
    })
  }

  private publicUrl(): string {
    if (this.o.config.publicUrl) return this.o.config.publicUrl
    const a = this.app.server.address()
    return typeof a === 'object' && a ? `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : ''
  }

  private keepImage(name: string, png: Uint8Array): void {
    const now = this.now()
    for (const [k, v] of this.images) if (v.expires < now || this.images.size >= IMAGE_CACHE) this.images.delete(k)
    this.images.set(name, { png, expires: now + IMAGE_TTL_MS })
  }

  private async run(c: ChainClient, type: 'text' | 'image', args: object, model: ApiModel, onProgress?: (p: Progress) => void): Promise<TaskResult> {
    try {
      return await c.runTask({
        type,
        args,
        fee: this.o.config.fee,
        requirements: { modelIds: [model.id] },
        timeoutMs: this.o.config.taskTimeoutS * 1000,
        onProgress,
      })
    } catch (err) {
      const e = err as Error
      throw new ApiError(e.name === 'TaskTimeoutError' ? 504 : 502, `The Beryl task failed: ${e.message}`, 'server_error', 'task_failed')
    }
  }

  private async text(key: ApiKey, b: Record<string, unknown>, messages: Msg[], reply: FastifyReply, shape: 'chat' | 'completion') {
    const model = await this.resolveModel(b.model, 'text')
    if (b.n !== undefined && b.n !== null && b.n !== 1) throw invalid('only n = 1 is supported', 'n')
    if (b.tools !== undefined || b.functions !== undefined) throw invalid('tools and functions are not supported', 'tools')
    const maxTokens = optionalInt(b.max_completion_tokens ?? b.max_tokens, 'max_tokens') ?? 256
    if (maxTokens < 1 || maxTokens > TEXT_MAX_NEW_TOKENS) throw invalid(`max_tokens must be from 1 to ${TEXT_MAX_NEW_TOKENS}`, 'max_tokens')
    const temperature = optionalNumber(b.temperature, 'temperature', 0, 2) ?? 1
    const topP = optionalNumber(b.top_p, 'top_p', 0, 1) ?? 1
    if (topP === 0) throw invalid('top_p must be greater than 0', 'top_p')
    const seed = optionalInt(b.seed, 'seed') ?? randomInt(0, 2 ** 47)
    if (seed < 0 || seed > Number.MAX_SAFE_INTEGER) throw invalid('seed must be from 0 to 2^53 − 1', 'seed')
    const stop = b.stop === undefined || b.stop === null ? [] : typeof b.stop === 'string' ? [b.stop] : b.stop
    if (!Array.isArray(stop) || stop.length > 4 || stop.some((s) => typeof s !== 'string' || !s || s.length > 64))
      throw invalid('stop must be a string or up to 4 strings of 1 to 64 characters', 'stop')
    const args = { messages, max_new_tokens: maxTokens, temperature, top_p: topP, seed, ...(stop.length ? { stop } : {}), model: model.id }

    const stream = b.stream === true
    if (!stream) {
      const { r, reused } = await this.execute(key, 'text', args, model)
      const out = completionOf(r)
      const created = Math.floor(this.now() / 1000)
      const beryl = berylField(r, model, seed, reused)
      if (shape === 'completion') {
        return {
          id: out.id.replace(/^chatcmpl-/, 'cmpl-'),
          object: 'text_completion',
          created,
          model: model.name,
          choices: [{ text: out.choices[0]!.message.content, index: 0, logprobs: null, finish_reason: out.choices[0]!.finish_reason }],
          usage: out.usage,
          beryl,
        }
      }
      return {
        ...out,
        created,
        model: model.name,
        choices: out.choices.map((c) => ({ ...c, logprobs: null })),
        system_fingerprint: `beryl-${model.id.slice(0, 12)}`,
        beryl,
      }
    }

    // Streaming. Nothing of the answer is sent before the task is verified: runTask returns only once the task (and,
    // when sampled, its validation group) is validated on chain and the output downloaded and checked against the
    // score there. Until then the stream carries SSE comment lines only (clients ignore them): the task's progress
    // (`: beryl-progress {"stage", "commitments", "height"}`, never the secret task id) and keep-alives.
    // Admission errors (budget, concurrency) are still plain JSON errors: the stream opens after admission.
    const includeUsage = (b.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true
    let comment: ((line: string) => void) | undefined
    const early: string[] = []
    const onProgress = (p: Progress) => {
      const line = `beryl-progress ${JSON.stringify({ stage: p.stage, commitments: p.commitments, height: p.height })}`
      if (comment) comment(line)
      else early.push(line)
    }
    const run = this.execute(key, 'text', args, model, onProgress)
    run.catch(() => {})
    // Give the admission a moment to refuse (budget, concurrency) before the stream opens.
    await Promise.race([run, new Promise((r) => setImmediate(r))])
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
    const send = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`)
    comment = (line: string) => void (res.writableEnded || res.write(`: ${line}\n\n`))
    for (const line of early.splice(0)) comment(line)
    const ping = setInterval(() => comment?.('waiting for the verified task'), 5000)
    try {
      const { r, reused } = await run
      comment = undefined
      const out = completionOf(r)
      const base = {
        id: out.id,
        object: 'chat.completion.chunk',
        created: Math.floor(this.now() / 1000),
        model: model.name,
        system_fingerprint: `beryl-${model.id.slice(0, 12)}`,
      }
      send({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] })
      for (const piece of out.choices[0]!.message.content.match(/\s*\S+|\s+/g) ?? []) {
        send({ ...base, choices: [{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }] })
      }
      send({
        ...base,
        choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: out.choices[0]!.finish_reason }],
        beryl: berylField(r, model, seed, reused),
      })
      if (includeUsage) send({ ...base, choices: [], usage: out.usage })
      res.write('data: [DONE]\n\n')
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, (err as Error).message, 'server_error')
      send(e.body())
    } finally {
      clearInterval(ping)
      res.end()
    }
  }
}

// ---- request parsing --------------------------------------------------------------------------

type Msg = { role: 'system' | 'user' | 'assistant'; content: string }

function body(req: FastifyRequest): Record<string, unknown> {
  const b = req.body
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw invalid('The request body must be a JSON object.')
  return b as Record<string, unknown>
}

function chatMessages(v: unknown): Msg[] {
  if (!Array.isArray(v) || v.length === 0) throw invalid('messages must be a non-empty array', 'messages')
  if (v.length > 64) throw invalid('at most 64 messages', 'messages')
  return v.map((m, i) => {
    const o = m as { role?: unknown; content?: unknown }
    const role = o?.role === 'developer' ? 'system' : o?.role
    if (role !== 'system' && role !== 'user' && role !== 'assistant')
      throw invalid(`messages[${i}].role must be system, developer, user or assistant`, `messages[${i}].role`)
    let content: string
    if (typeof o.content === 'string') content = o.content
    else if (Array.isArray(o.content) && o.content.every((p) => p?.type === 'text' && typeof p.text === 'string'))
      content = o.content.map((p) => p.text).join('')
    else throw invalid(`messages[${i}].content must be a string or text parts`, `messages[${i}].content`)
    if (content.length > 8000) throw invalid(`messages[${i}].content is longer than 8000 characters`, `messages[${i}].content`)
    return { role, content }
  })
}

function optionalInt(v: unknown, param: string): number | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalid(`${param} must be an integer`, param)
  return v
}

function optionalNumber(v: unknown, param: string, min: number, max: number): number | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw invalid(`${param} must be a number from ${min} to ${max}`, param)
  return v
}

interface WorkerCompletion {
  id: string
  choices: { index: number; message: { role: 'assistant'; content: string }; finish_reason: 'stop' | 'length' }[]
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number }
}

function completionOf(r: TaskResult): WorkerCompletion {
  return JSON.parse(Buffer.from(r.outputs[0]!).toString('utf8')) as WorkerCompletion
}

/** What makes the answer verifiable: the tasks on chain, how they were checked, what they cost. */
function berylField(r: TaskResult, model: ApiModel, seed: number, reused: boolean) {
  return {
    /** True when an identical earlier request of the same account was answered by these tasks (no new fee). */
    reused,
    task_id: r.taskId,
    tasks: r.commitments,
    cross_validated: r.sampled,
    node: r.task.selectedNode,
    model_id: model.id,
    seed,
    score: Buffer.from(r.task.score).toString('hex'),
    fee_paid_uberyl: r.feePaid.toString(),
    tx_fees_uberyl: r.txFees.toString(),
    heights: r.heights,
  }
}
