// The OpenAI-compatible API's own rules, against a stand-in chain client whose tasks the test verifies by hand:
// a streamed answer sends no chunk before its task is verified, and a key's concurrent requests are bounded per key.
// (The same server against a devnet, with real tasks, is test/integration/api.test.ts.)
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import type { OfflineDirectSigner } from '@cosmjs/proto-signing'
import { parseApiConfig } from '../../api/config.ts'
import { type ChainClient, ApiServer } from '../../api/server.ts'
import type { Progress, RunTaskOptions, TaskResult } from '../../sdk/index.ts'

const MODEL = 'a'.repeat(64)
const KEY_A = 'sk-test-a'
const KEY_B = 'sk-test-b'

/** A task the test settles: `verify()` stands for the chain validating it and the output checking out. */
interface Pending {
  opts: RunTaskOptions
  verify: () => void
}

/** A chain client per account: three nodes serve MODEL; runTask waits until the test verifies the task. */
class FakeChain {
  readonly pending: Pending[] = []
  readonly events: string[] = []
  private waiters: (() => void)[] = []
  started = 0

  client(account: string): ChainClient {
    return {
      disconnect: () => {},
      query: {
        staking: { nodes: async () => ({ nodes: [1, 2, 3].map((i) => ({ status: 1, modelIds: [MODEL], address: `node${i}` })), nextKey: new Uint8Array() }) },
      } as unknown as ChainClient['query'],
      runTask: (opts: RunTaskOptions) => this.runTask(account, opts),
    }
  }

  private async runTask(account: string, opts: RunTaskOptions): Promise<TaskResult> {
    this.started++
    const n = this.started
    const commitments = [`${n}`.padStart(64, '0')]
    const progress = (stage: Progress['stage'], height: number) => opts.onProgress?.({ stage, taskId: 'secret', commitments, height, message: '' })
    progress('created', 10)
    progress('started', 11)
    progress('scored', 12)
    await new Promise<void>((resolve) => {
      this.pending.push({
        opts,
        verify: () => {
          this.events.push(`verified ${n}`)
          resolve()
        },
      })
      for (const w of this.waiters.splice(0)) w()
    })
    progress('attested', 14)
    const args = JSON.parse(JSON.stringify(opts.args)) as { seed: number }
    const completion = {
      id: `chatcmpl-${n}`,
      choices: [{ index: 0, message: { role: 'assistant', content: `Answer ${n} for ${account}, seed ${args.seed}.` }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 },
    }
    return {
      taskId: `task${n}`,
      commitments,
      sampled: true,
      outputs: [new TextEncoder().encode(JSON.stringify(completion))],
      task: { selectedNode: 'node1', score: new Uint8Array(32) },
      group: [],
      feePaid: 1_000_000n,
      txFees: 5_000n,
      heights: { created: 10, delivered: 15 },
      gateway: 'test',
    } as unknown as TaskResult
  }

  /** Resolves once `count` tasks are waiting for verification. */
  async waitPending(count: number): Promise<void> {
    while (this.pending.length < count) await new Promise<void>((r) => this.waiters.push(r))
  }
}

async function startServer(chain: FakeChain, maxConcurrent: number): Promise<{ server: ApiServer; url: string; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-api-unit-'))
  const config = parseApiConfig(`listen = "127.0.0.1:0"
gateways = ["/ip4/127.0.0.1/tcp/1/p2p/test"]
max_concurrent_per_key = ${maxConcurrent}

[[keys]]
name = "a"
key = "${KEY_A}"
account = "account1"
daily_limit_uberyl = "1000000000"

[[keys]]
name = "b"
key = "${KEY_B}"
account = "account2"
daily_limit_uberyl = "1000000000"

[[models]]
name = "chat"
id = "${MODEL}"
kind = "text"
`)
  const signer = {} as OfflineDirectSigner
  const server = new ApiServer({
    config,
    signers: new Map([
      ['account1', signer],
      ['account2', signer],
    ]),
    keyStoreDir: dir,
    connect: async (account) => chain.client(account),
  })
  return { server, url: await server.listen(), dir }
}

const chatBody = (seed: number, stream = false) =>
  JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], temperature: 0, max_tokens: 8, seed, stream })

describe('beryld api: streaming waits for verification; per-key concurrency (stand-in chain)', () => {
  let chain: FakeChain
  let api: { server: ApiServer; url: string; dir: string }
  beforeEach(async () => {
    chain = new FakeChain()
    api = await startServer(chain, 2)
  })
  afterEach(async () => {
    for (const p of chain.pending) p.verify() // a failed test leaves no request open
    await api.server.close()
    fs.rmSync(api.dir, { recursive: true, force: true })
  })

  it('stream: true sends only comment lines (progress, no content) until the task is verified, then the chunks', async () => {
    const res = await fetch(`${api.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json' },
      body: chatBody(7, true),
    })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/)
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let buf = ''
    const lines: string[] = []
    const readUntil = async (done: () => boolean) => {
      while (!done()) {
        const { value, done: end } = await reader.read()
        if (end) break
        buf += decoder.decode(value, { stream: true })
        let i: number
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const event = buf.slice(0, i)
          buf = buf.slice(i + 2)
          lines.push(event)
          chain.events.push(event.startsWith('data: ') ? 'data' : 'comment')
        }
      }
    }
    // The task runs, the worker has an output (scored), and the stream is open: only its progress comes.
    await readUntil(() => lines.some((l) => l.includes('"stage":"scored"')))
    await chain.waitPending(1)
    await new Promise((r) => setTimeout(r, 200))
    assert.ok(lines.length >= 3)
    assert.deepEqual(
      lines.filter((l) => !l.startsWith(': ')),
      [],
      'nothing but comment lines before verification',
    )
    const created = JSON.parse(lines[0]!.replace(/^: beryl-progress /, '')) as { stage: string; commitments: string[]; height: number }
    assert.equal(created.stage, 'created')
    assert.equal(created.commitments.length, 1)
    assert.ok(!lines.join('\n').includes('secret'), 'the secret task id is not revealed before validation')

    chain.pending[0]!.verify()
    await readUntil(() => lines.includes('data: [DONE]'))
    const firstData = chain.events.indexOf('data')
    assert.ok(firstData > chain.events.indexOf('verified 1'), `events: ${chain.events.join(', ')}`)
    const chunks = lines.filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>)
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'))
    const text = chunks.map((c) => (c.choices as { delta: { content?: string } }[])[0]?.delta.content ?? '').join('')
    assert.equal(text, 'Answer 1 for account1, seed 7.')
    assert.deepEqual((chunks.at(-1)!.beryl as { tasks: string[] }).tasks, created.commitments)
  })

  it('the official openai client streams the verified answer only after verification', async () => {
    const client = new OpenAI({ apiKey: KEY_A, baseURL: `${api.url}/v1`, maxRetries: 0 })
    const stream = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], seed: 3, stream: true })
    await chain.waitPending(1)
    setTimeout(() => chain.pending[0]!.verify(), 300)
    let text = ''
    let chunks = 0
    for await (const chunk of stream) {
      if (chunks++ === 0) chain.events.push('first chunk')
      text += chunk.choices[0]?.delta?.content ?? ''
    }
    assert.equal(text, 'Answer 1 for account1, seed 3.')
    assert.deepEqual(chain.events, ['verified 1', 'first chunk'])
  })

  it('a key with max_concurrent_per_key requests in flight gets 429 rate_limit_exceeded; its requests run one at a time; another key is unaffected', async () => {
    const a = new OpenAI({ apiKey: KEY_A, baseURL: `${api.url}/v1`, maxRetries: 0 })
    const b = new OpenAI({ apiKey: KEY_B, baseURL: `${api.url}/v1`, maxRetries: 0 })
    const ask = (c: OpenAI, seed: number) => c.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], temperature: 0, seed })
    // Two in flight for key A (the bound): the first runs, the second queues behind it (one account, one task at a time).
    const a1 = ask(a, 1)
    await chain.waitPending(1)
    const a2 = ask(a, 2)
    await new Promise((r) => setTimeout(r, 200))
    assert.equal(chain.started, 1, "the second request of the key waits for the first (the account's transactions are sequential)")

    // A third: refused at once with OpenAI's error shape, whether streamed or not.
    await assert.rejects(ask(a, 3), (e: InstanceType<typeof OpenAI.APIError>) => {
      assert.equal(e.status, 429)
      assert.equal(e.code, 'rate_limit_exceeded')
      assert.equal(e.type, 'rate_limit_exceeded')
      assert.equal(e.headers?.get('retry-after'), '1')
      assert.match(e.message, /at most 2/)
      return true
    })
    const streamed = await fetch(`${api.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json' },
      body: chatBody(4, true),
    })
    assert.equal(streamed.status, 429)
    assert.equal(((await streamed.json()) as { error: { code: string } }).error.code, 'rate_limit_exceeded')

    // Key B (its own account) is answered meanwhile.
    const bAnswer = ask(b, 5)
    await chain.waitPending(2)
    chain.pending[1]!.verify()
    assert.equal((await bAnswer).choices[0]!.message.content, 'Answer 2 for account2, seed 5.')

    // A's requests finish in order; then the key has room again.
    chain.pending[0]!.verify()
    assert.equal((await a1).choices[0]!.message.content, 'Answer 1 for account1, seed 1.')
    await chain.waitPending(3)
    chain.pending[2]!.verify()
    assert.equal((await a2).choices[0]!.message.content, 'Answer 3 for account1, seed 2.')
    const again = ask(a, 6)
    await chain.waitPending(4)
    chain.pending[3]!.verify()
    assert.equal((await again).choices[0]!.message.content, 'Answer 4 for account1, seed 6.')
  })
})
