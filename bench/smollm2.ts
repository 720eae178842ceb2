// SmolLM2-135M-Instruct tokens/s: Beryl's ONNX decoder (onnxruntime-node, one intra-op thread as every worker
// session) against llama.cpp (llama-cpp-python from .venv-ref/, 1 and 2 threads) on the same GGUF, the same prompt
// ids and the same number of greedy steps, measured in the same run.
// Run: npm run bench:smollm2  (needs `npm run setup` and `npm run vectors:smollm2` once, for .venv-ref/)
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import * as ort from 'onnxruntime-node'
import { installSmolLM2 } from '../worker/models/gguf-install.ts'
import { SMOLLM2 } from '../worker/models/smollm2.ts'
import { componentPath } from '../worker/models/store.ts'
import { argmax, encodeChatML, loadTokenizer, type KvDecoderConfig } from '../worker/runners/llama.ts'
import { getSession } from '../worker/runners/session.ts'

const NEW_TOKENS = 64
const REPS = 3
const PROMPT =
  'Summarise the following notes for a colleague who missed the meeting. ' +
  'We agreed to move the release to the second week of March because the validator upgrade needs another round of testing on the public devnet. ' +
  'The GPU operators asked for clearer documentation of slashing, and for a dashboard showing their earnings per day. ' +
  'Marketing wants a demo of the OpenAI-compatible endpoint with a real chat model, and the security review of the gateway is booked for next Tuesday.'

const dir = mkdtempSync(join(tmpdir(), 'beryl-bench-smollm2-'))
try {
  const m = await installSmolLM2(dir, { log: (l) => console.error(l) })
  const cfg = m.config as unknown as KvDecoderConfig
  const tok = loadTokenizer(dir, m)
  const prompt = encodeChatML([{ role: 'user', content: PROMPT }], cfg.chat_template, tok)
  const { session } = await getSession(componentPath(dir, m, 'model'))
  const empty = () => {
    const f: Record<string, ort.Tensor> = {}
    for (let l = 0; l < cfg.kv_cache.layers; l++) {
      f[`past_key_${l}`] = new ort.Tensor('float32', new Float32Array(0), [1, cfg.kv_cache.kv_heads, 0, cfg.kv_cache.head_dim])
      f[`past_value_${l}`] = new ort.Tensor('float32', new Float32Array(0), [1, cfg.kv_cache.kv_heads, 0, cfg.kv_cache.head_dim])
    }
    return f
  }
  let best = { prompt: Infinity, gen: Infinity }
  for (let r = 0; r < REPS; r++) {
    const feeds = empty()
    const t0 = performance.now()
    feeds.input_ids = new ort.Tensor('int64', BigInt64Array.from(prompt, BigInt), [1, prompt.length])
    let res = await session.run(feeds)
    const t1 = performance.now()
    for (let i = 0; i < NEW_TOKENS; i++) {
      const next = argmax(res.logits!.data as Float32Array)
      for (let l = 0; l < cfg.kv_cache.layers; l++) {
        feeds[`past_key_${l}`] = res[`present_key_${l}`]!
        feeds[`past_value_${l}`] = res[`present_value_${l}`]!
      }
      feeds.input_ids = new ort.Tensor('int64', BigInt64Array.of(BigInt(next)), [1, 1])
      res = await session.run(feeds)
    }
    const t2 = performance.now()
    if (t1 - t0 + t2 - t1 < best.prompt + best.gen) best = { prompt: t1 - t0, gen: t2 - t1 }
  }
  const ours = { prompt_tps: prompt.length / (best.prompt / 1000), gen_tps: NEW_TOKENS / (best.gen / 1000) }

  // The reference interpreter: .venv-ref/ (npm run vectors:smollm2 builds it), or BERYL_REF_PYTHON.
  const py = process.env.BERYL_REF_PYTHON ?? resolve(import.meta.dirname, '..', '.venv-ref', 'bin', 'python')
  const anchors: { threads: number; prompt_tps: number; gen_tps: number }[] = []
  if (existsSync(py)) {
    for (const threads of [1, 2]) {
      const out = execFileSync(
        py,
        [join(import.meta.dirname, 'smollm2_llama.py'), SMOLLM2.defaultPath, String(threads), prompt.join(','), String(NEW_TOKENS)],
        { encoding: 'utf8' },
      )
      const j = JSON.parse(out.trim().split('\n').at(-1)!) as { prompt_ms: number; gen_ms: number }
      anchors.push({ threads, prompt_tps: prompt.length / (j.prompt_ms / 1000), gen_tps: NEW_TOKENS / (j.gen_ms / 1000) })
    }
  } else {
    console.error('no .venv-ref/ (run `npm run vectors:smollm2` once to build llama-cpp-python): llama.cpp anchor skipped')
  }

  const f = (x: number) => x.toFixed(1).padStart(8)
  console.log(
    `SmolLM2-135M-Instruct, prompt ${prompt.length} tokens, ${NEW_TOKENS} greedy tokens, best of ${REPS}; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} on ${cpus().length} cores`,
  )
  console.log('                                   prompt tok/s   gen tok/s')
  console.log(`Beryl ONNX (ORT CPU, 1 thread)       ${f(ours.prompt_tps)}    ${f(ours.gen_tps)}`)
  for (const a of anchors) {
    console.log(
      `llama.cpp Q4_1 (${a.threads} thread${a.threads > 1 ? 's' : ' '})           ${f(a.prompt_tps)}    ${f(a.gen_tps)}    (Beryl/llama.cpp: prompt ${(ours.prompt_tps / a.prompt_tps).toFixed(2)}, gen ${(ours.gen_tps / a.gen_tps).toFixed(2)})`,
    )
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
