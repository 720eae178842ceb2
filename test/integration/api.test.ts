// The official `openai` npm client, unchanged, against `beryld api` on a devnet whose workers serve
// SmolLM2 and whose every task is cross-validated (a group of three, text compared by exact hash).
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import OpenAI from 'openai'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { BerylClient, TaskStatus } from '../../sdk/index.ts'
import { phashPng } from '../../outputs/phash/phash.ts'
import { BERYLD } from '../helpers/node.ts'
import { startTestDevnet, type TestDevnet } from '../helpers/devnet.ts'

const GOOD = 'sk-beryl-test-good'
const POOR = 'sk-beryl-test-poor'

/** A response's server-sent events (comment lines included), as they arrive. */
async function* sseEvents(res: Response): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let buf = ''
  for await (const bytes of res.body!) {
    buf += decoder.decode(bytes as Uint8Array, { stream: true })
    let i: number
    while ((i = buf.indexOf('\n\n')) >= 0) {
      yield buf.slice(0, i)
      buf = buf.slice(i + 2)
    }
  }
}

describe('beryld api: the openai client against a devnet (every task cross-validated)', function () {
  this.timeout(600_000)
  let net: TestDevnet
  let api: ChildProcess
  let url: string
  let chain: BerylClient
  const openai = (apiKey = GOOD) => new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0, timeout: 300_000 })
  const onChain = async (commitment: string) => (await chain.query.task.task(commitment)).status

  before(async () => {
    net = await startTestDevnet(['--sample-all', '--quiet'])
    const cfg = path.join(net.home, 'api.toml')
    fs.writeFileSync(
      cfg,
      `listen = "127.0.0.1:0"
node = "${net.info.rpc}"
gateways = ["${net.info.gateway}"]
fee = "1000000"
body_limit_bytes = 65536

[[keys]]
name = "good"
key = "${GOOD}"
account = "account1"
daily_limit_uberyl = "1000000000"

[[keys]]
name = "poor"
key = "${POOR}"
account = "account2"
daily_limit_uberyl = "1000"
`,
    )
    api = spawn(BERYLD, ['api', '--config', cfg, '--home', net.home, '--keyring-backend', 'test', '--output', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    api.stderr!.on('data', (d) => {
      out += d
    })
    url = await new Promise<string>((resolve, reject) => {
      api.stdout!.on('data', (d) => {
        out += d
        const line = out.split('\n').find((l) => l.startsWith('{"listening":'))
        if (line) resolve(JSON.parse(line).listening)
      })
      api.once('exit', (c) => reject(new Error(`beryld api exited (${c}): ${out}`)))
    })
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(net.info.accounts[2]!.mnemonic, { prefix: 'beryl' })
    chain = await BerylClient.connect(net.info.rpc, wallet, { keyStoreDir: path.join(net.home, 'test-keys') })
  })
  after(async () => {
    chain?.disconnect()
    if (api && api.exitCode === null) {
      const done = new Promise((r) => api.once('exit', r))
      api.kill('SIGTERM')
      await done
    }
    await net?.stop()
  })

  it('models.list: SmolLM2 and the bundled models, served by three nodes', async () => {
    const list = await openai().models.list()
    const names = list.data.map((m) => m.id)
    for (const n of ['smollm2-135m-instruct', 'beryl-tiny-sd', 'beryl-tiny-lm']) assert.ok(names.includes(n), `${n} in ${names}`)
    const sm = list.data.find((m) => m.id === 'smollm2-135m-instruct') as unknown as { beryl: { serving_nodes: number; kind: string } }
    assert.equal(sm.beryl.serving_nodes, 3)
    assert.equal(sm.beryl.kind, 'text')
  })

  let plain = ''
  it('chat.completions.create: "What is the capital of France?" answered by a verified devnet task, with "Paris"', async () => {
    const r = await openai().chat.completions.create({
      model: 'smollm2-135m-instruct',
      messages: [{ role: 'user', content: 'What is the capital of France?' }],
      temperature: 0,
      max_tokens: 32,
      seed: 1,
    })
    plain = r.choices[0]!.message.content ?? ''
    assert.match(plain, /Paris/)
    assert.equal(r.object, 'chat.completion')
    assert.equal(r.choices[0]!.finish_reason, 'stop')
    assert.ok(r.usage!.prompt_tokens > 20 && r.usage!.completion_tokens > 0)
    const b = (
      r as unknown as { beryl: { tasks: string[]; cross_validated: boolean; fee_paid_uberyl: string; heights: { created: number; delivered: number } } }
    ).beryl
    assert.equal(b.cross_validated, true)
    assert.equal(b.tasks.length, 3)
    assert.equal(await onChain(b.tasks[0]!), TaskStatus.TASK_STATUS_END_GROUP_SUCCESS, 'the group agreed on the exact hash')
    assert.equal(b.fee_paid_uberyl, '3000000', 'three matching runs, each paid its own fee (docs/decisions/0025)')
    assert.ok(b.heights.delivered > b.heights.created)
  })

  it('chat.completions.create with stream: true, repeating the request: OpenAI chunks with the earlier verified answer (no second task)', async () => {
    const stream = await openai().chat.completions.create({
      model: 'smollm2-135m-instruct',
      messages: [{ role: 'user', content: 'What is the capital of France?' }],
      temperature: 0,
      max_tokens: 32,
      seed: 1,
      stream: true,
      stream_options: { include_usage: true },
    })
    let text = ''
    let finish: string | null = null
    let usage: unknown
    let tasks: string[] = []
    let reused = false
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? ''
      finish = chunk.choices[0]?.finish_reason ?? finish
      usage = chunk.usage ?? usage
      const b = (chunk as unknown as { beryl?: { tasks: string[]; reused: boolean } }).beryl
      if (b) {
        tasks = b.tasks
        reused = b.reused
      }
    }
    assert.equal(text, plain)
    assert.equal(reused, true, 'an identical request within the hour reuses the verified task')
    assert.equal(finish, 'stop')
    assert.ok(usage)
    assert.equal(await onChain(tasks[0]!), TaskStatus.TASK_STATUS_END_GROUP_SUCCESS)
  })

  it('stream: true on a new task: only progress comments while it is unverified on chain; the first chunk once it is verified', async () => {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${GOOD}`, 'content-type': 'application/json' },
      // Another seed: new args, so a new task (greedy, so the same answer).
      body: JSON.stringify({
        model: 'smollm2-135m-instruct',
        messages: [{ role: 'user', content: 'What is the capital of France?' }],
        temperature: 0,
        max_tokens: 32,
        seed: 2,
        stream: true,
      }),
    })
    assert.equal(res.status, 200)
    let commitments: string[] = []
    const progress: { stage: string; statuses: TaskStatus[] }[] = []
    let atFirstData: TaskStatus[] | undefined
    let text = ''
    let tasks: string[] = []
    for await (const event of sseEvents(res)) {
      if (event.startsWith(': beryl-progress ')) {
        assert.equal(atFirstData, undefined, 'progress comes before the answer')
        const p = JSON.parse(event.slice(': beryl-progress '.length)) as { stage: string; commitments: string[] }
        commitments = p.commitments
        // The chain's view of every member, read while the stream has sent nothing but comments.
        progress.push({ stage: p.stage, statuses: await Promise.all(commitments.map(onChain)) })
        continue
      }
      if (!event.startsWith('data: ')) continue
      // The first data event (the role chunk): read the chain before reading on.
      atFirstData ??= await Promise.all(commitments.map(onChain))
      if (event === 'data: [DONE]') break
      const chunk = JSON.parse(event.slice(6)) as { choices: { delta: { content?: string } }[]; beryl?: { tasks: string[]; reused: boolean } }
      text += chunk.choices[0]?.delta.content ?? ''
      if (chunk.beryl) {
        assert.equal(chunk.beryl.reused, false)
        tasks = chunk.beryl.tasks
      }
    }
    const stages = progress.map((p) => p.stage)
    for (const s of ['created', 'sampled', 'scored', 'downloaded']) assert.ok(stages.includes(s), `${s} in ${stages}`)
    assert.ok(
      progress.some((p) => p.statuses.some((s) => s < TaskStatus.TASK_STATUS_END_INVALIDATED)),
      'the stream was open while the task was not yet verified on chain',
    )
    assert.equal(commitments.length, 3, 'a cross-validated group')
    assert.deepEqual([...tasks].sort(), [...commitments].sort())
    // When the first chunk came, the group had ended on chain: the delivered member in group success, the two
    // validation tasks matching it (EndGroupRefund: each paid its own fee).
    const at = new Map(commitments.map((c, i) => [c, atFirstData![i]]))
    assert.deepEqual(
      tasks.map((c) => at.get(c)),
      [TaskStatus.TASK_STATUS_END_GROUP_SUCCESS, TaskStatus.TASK_STATUS_END_GROUP_REFUND, TaskStatus.TASK_STATUS_END_GROUP_REFUND],
      'the task was verified when the first chunk came',
    )
    assert.equal(text, plain, 'greedy: the same answer as the first task')
  })

  it('images.generate with b64_json: a PNG whose pHash is the score on chain', async () => {
    const r = await openai().images.generate({
      model: 'beryl-tiny-sd',
      prompt: 'a lighthouse at dusk',
      size: '128x128' as '256x256',
      response_format: 'b64_json',
    })
    const png = Buffer.from(r.data![0]!.b64_json!, 'base64')
    const b = (r as unknown as { beryl: { tasks: string[]; score: string } }).beryl
    assert.equal(Buffer.from(await phashPng(png)).toString('hex'), b.score)
    assert.equal(await onChain(b.tasks[0]!), TaskStatus.TASK_STATUS_END_GROUP_SUCCESS)
  })

  it('a bad key gets 401 invalid_api_key', async () => {
    await assert.rejects(openai('sk-wrong').models.list(), (e: InstanceType<typeof OpenAI.APIError>) => e.status === 401 && e.code === 'invalid_api_key')
  })

  it('an over-budget key gets 429 insufficient_quota with the reset time', async () => {
    await assert.rejects(
      openai(POOR).chat.completions.create({ model: 'smollm2-135m-instruct', messages: [{ role: 'user', content: 'hi' }] }),
      (e: InstanceType<typeof OpenAI.APIError>) => e.status === 429 && e.code === 'insufficient_quota' && /resets at \d{4}-\d\d-\d\dT00:00:00/.test(e.message),
    )
  })

  it('a malformed body gets 400 invalid_request_error naming the field', async () => {
    await assert.rejects(
      openai().chat.completions.create({ model: 'smollm2-135m-instruct', messages: 'hello' as unknown as [] }),
      (e: InstanceType<typeof OpenAI.APIError>) => e.status === 400 && e.type === 'invalid_request_error' && e.param === 'messages',
    )
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${GOOD}`, 'content-type': 'application/json' },
      body: '{"model": ',
    })
    assert.equal(res.status, 400)
    assert.equal(((await res.json()) as { error: { type: string } }).error.type, 'invalid_request_error')
    const big = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${GOOD}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'x', messages: [{ role: 'user', content: 'a'.repeat(70_000) }] }),
    })
    assert.equal(big.status, 413)
  })

  it('an unknown model gets 404 model_not_found', async () => {
    await assert.rejects(
      openai().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
      (e: InstanceType<typeof OpenAI.APIError>) => e.status === 404 && e.code === 'model_not_found',
    )
  })
})
