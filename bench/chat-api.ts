// A 64-token chat completion through `beryld api` on a devnet (3 workers serving SmolLM2), streamed with the
// official openai client: time to the first content chunk and total time, against the inference alone (the same
// args through the runner in this process, measured in the same run). The difference is the chain's share:
// blocks to create, dispatch, score, validate, upload and attest the task, and the download.
// Run: npm run bench:chat-api
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { SMOLLM2_MODEL_ID, installSmolLM2 } from '../worker/models/gguf-install.ts'
import { runTextTask } from '../worker/runners/index.ts'
import { startTestDevnet } from '../test/helpers/devnet.ts'
import { BERYLD } from '../test/helpers/node.ts'

const RUNS = 3
const messages = [{ role: 'user' as const, content: 'Write a long story about a dragon who learns to fly.' }]
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-bench-chat-'))
await installSmolLM2(modelDir)
const infer = async (seed: number) => {
  const t0 = performance.now()
  const r = await runTextTask({ messages, max_new_tokens: 64, temperature: 0, seed, model: SMOLLM2_MODEL_ID }, modelDir)
  if (r.completion.usage.completion_tokens !== 64) console.error(`note: the answer ended after ${r.completion.usage.completion_tokens} tokens`)
  return performance.now() - t0
}

const net = await startTestDevnet(['--quiet'])
const key = 'sk-beryl-bench'
const cfg = path.join(net.home, 'api.toml')
fs.writeFileSync(
  cfg,
  `listen = "127.0.0.1:0"\nnode = "${net.info.rpc}"\ngateways = ["${net.info.gateway}"]\n[[keys]]\nkey = "${key}"\naccount = "account1"\ndaily_limit_uberyl = "1000000000000"\n`,
)
const api = spawn(BERYLD, ['api', '--config', cfg, '--home', net.home, '--keyring-backend', 'test', '--output', 'json'], {
  stdio: ['ignore', 'pipe', 'inherit'],
})
try {
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    api.stdout!.on('data', (d) => {
      out += d
      const l = out.split('\n').find((x) => x.startsWith('{"listening":'))
      if (l) resolve(JSON.parse(l).listening)
    })
    api.once('exit', (c) => reject(new Error(`beryld api exited ${c}`)))
  })
  const openai = new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0, timeout: 600_000 })
  const viaApi = async (seed: number) => {
    const t0 = performance.now()
    let first = 0
    let b: { cross_validated: boolean; heights: { created: number; delivered: number } } | undefined
    const stream = await openai.chat.completions.create({ model: 'smollm2-135m-instruct', messages, max_tokens: 64, temperature: 0, seed, stream: true })
    for await (const c of stream) {
      if (!first && c.choices[0]?.delta?.content) first = performance.now() - t0
      b = (c as unknown as { beryl?: typeof b }).beryl ?? b
    }
    return { ttft: first, total: performance.now() - t0, sampled: b!.cross_validated, blocks: b!.heights.delivered - b!.heights.created }
  }
  // Warm-up (session loads in this process and in the devnet's workers), untimed; then alternate the two paths
  // so both see the same machine load.
  await infer(1000)
  await viaApi(1000)
  const inference: number[] = [],
    ttft: number[] = [],
    total: number[] = [],
    sampled: boolean[] = [],
    blocks: number[] = []
  for (let i = 0; i < RUNS; i++) {
    inference.push(await infer(i))
    const r = await viaApi(i)
    ttft.push(r.ttft)
    total.push(r.total)
    sampled.push(r.sampled)
    blocks.push(r.blocks)
  }
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`
  console.log(
    `64-token chat completion (SmolLM2, greedy), median of ${RUNS} after a warm-up; load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} on ${os.cpus().length} cores`,
  )
  console.log(`  inference alone (runner in-process, 1 thread)   ${s(median(inference))}`)
  console.log(`  through beryld api on a devnet: first token      ${s(median(ttft))}`)
  console.log(
    `                                  total            ${s(median(total))}   (${median(blocks)} blocks from creation to delivery; cross-validated: ${sampled.filter(Boolean).length}/${RUNS})`,
  )
  console.log(
    `  chain overhead (total − inference)               ${s(median(total) - median(inference))}   (total = ×${(median(total) / median(inference)).toFixed(1)} the inference)`,
  )
} finally {
  api.kill('SIGTERM')
  await new Promise((r) => api.once('exit', r))
  await net.stop()
  fs.rmSync(modelDir, { recursive: true, force: true })
}
