import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import sharp from 'sharp'
import { buildBundledModels } from '../../worker/models/build.ts'
import { BUNDLED_MODEL_IDS } from '../../sdk/models.ts'
import { addModel, computeModelId, ensureBundledModels, listModels, manifestForBuilt, verifyModel } from '../../worker/models/store.ts'
import { ArgsError, encodeChat, releaseSessions, runImageTask, runTextTask, validateImageArgs, validateTextArgs } from '../../worker/runners/index.ts'

const run = promisify(execFile)
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const REPO = fileURLToPath(new URL('../../', import.meta.url))

// A 64-bit DCT hash in the spirit of pHash (32×32 grey, top-left 8×8 DCT
// coefficients against their median). Enough to tell "different structure"
// from "different bytes"; outputs/phash/ has the bit-exact goimagehash port.
async function dctHash(png: Uint8Array): Promise<bigint> {
  const N = 32
  const { data } = await sharp(png).resize(N, N, { fit: 'fill' }).greyscale().raw().toBuffer({ resolveWithObject: true })
  const coef: number[] = []
  for (let u = 0; u < 8; u++) {
    for (let v = 0; v < 8; v++) {
      let s = 0
      for (let x = 0; x < N; x++)
        for (let y = 0; y < N; y++) s += data[x * N + y]! * Math.cos(((2 * x + 1) * u * Math.PI) / (2 * N)) * Math.cos(((2 * y + 1) * v * Math.PI) / (2 * N))
      coef.push(s)
    }
  }
  const med = [...coef].sort((a, b) => a - b)[32]!
  return coef.reduce((h, c, i) => (c > med ? h | (1n << BigInt(63 - i)) : h), 0n)
}
const hamming = (a: bigint, b: bigint) => [...(a ^ b).toString(2)].filter((c) => c === '1').length

function rejects(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ArgsError, `expected ArgsError, got ${String(e)}`)
    for (const p of patterns) assert.match(e.message, p)
    return true
  })
}

describe('task runners', function () {
  this.timeout(60_000)
  let home: string
  let models: string

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'beryl-runners-'))
    models = join(home, 'models')
    await ensureBundledModels(models)
  })

  after(async () => {
    await releaseSessions()
    await rm(home, { recursive: true, force: true })
  })

  describe('bundled models', () => {
    it('build to the same bytes and ids every time, in a fresh folder too', async () => {
      const a = buildBundledModels()
      const b = buildBundledModels()
      assert.deepEqual(
        a.map((m) => m.files.map((f) => sha(f.bytes))),
        b.map((m) => m.files.map((f) => sha(f.bytes))),
      )
      const first = await listModels(models)
      const second = await ensureBundledModels(join(home, 'models-2'))
      assert.deepEqual(second.map((m) => m.id).sort(), first.map((m) => m.id).sort())
      assert.deepEqual(first.map((m) => m.id).sort(), Object.values(BUNDLED_MODEL_IDS).sort())
      const size = a.flatMap((m) => m.files).reduce((n, f) => n + f.bytes.length, 0)
      assert.ok(size < 1_000_000, `bundled models are ${size} bytes`)
    })

    it('the builder produces exactly the ids the SDK uses as its defaults (sdk/models.ts)', async () => {
      const built = Object.fromEntries(buildBundledModels().map((b) => [b.kind, manifestForBuilt(b).id]))
      assert.deepEqual(built, { ...BUNDLED_MODEL_IDS })
      const { stdout } = await run(process.execPath, ['--import', 'tsx', join(REPO, 'scripts', 'models-build.ts'), join(home, 'models-cli')], { cwd: REPO })
      assert.deepEqual(
        stdout
          .trim()
          .split('\n')
          .map((l) => l.split(/\s+/).slice(0, 2).join(' ')),
        [`${BUNDLED_MODEL_IDS.image} image`, `${BUNDLED_MODEL_IDS.text} text`],
      )
    })

    it('uses the sha256 of the canonical identity as the id and lists what the folder holds', async () => {
      const listed = await listModels(models)
      assert.deepEqual(listed.map((m) => m.kind).sort(), ['image', 'text'])
      for (const m of listed) {
        assert.equal(computeModelId(m), m.id)
        await verifyModel(models, m.id)
        for (const f of m.files) assert.equal(sha(await readFile(join(models, m.id, f.path))), f.sha256)
      }
      // The label is not part of the identity.
      const built = buildBundledModels()[1]!
      assert.equal(manifestForBuilt({ ...built, name: 'renamed' }).id, manifestForBuilt(built).id)
    })

    it('detects a damaged file and rebuilds it', async () => {
      const dir = join(home, 'models-damaged')
      await ensureBundledModels(dir)
      const f = join(dir, BUNDLED_MODEL_IDS.text, 'model.onnx')
      const bytes = await readFile(f)
      bytes[bytes.length - 1] ^= 1
      await writeFile(f, bytes)
      await assert.rejects(verifyModel(dir, BUNDLED_MODEL_IDS.text), /sha256/)
      await ensureBundledModels(dir, { recheck: true })
      await verifyModel(dir, BUNDLED_MODEL_IDS.text)
      const skipped: string[] = []
      await writeFile(join(dir, BUNDLED_MODEL_IDS.image, 'unet', 'model.onnx'), 'short')
      const listed = await listModels(dir, { onInvalid: (e, why) => skipped.push(`${e}: ${why}`) })
      assert.deepEqual(
        listed.map((m) => m.kind),
        ['text'],
      )
      assert.match(skipped.join('\n'), /unet\/model\.onnx has 5 bytes/)
    })

    it('installs an operator-added model under its computed id and runs it', async () => {
      const src = join(home, 'operator-src')
      await mkdir(src, { recursive: true })
      await copyFile(join(models, BUNDLED_MODEL_IDS.text, 'model.onnx'), join(src, 'model.onnx'))
      const bundled = (await listModels(models)).find((m) => m.kind === 'text')!
      const m = await addModel(models, {
        sourceDir: src,
        kind: 'text',
        name: 'operator-lm',
        files: ['model.onnx'],
        components: { model: 'model.onnx' },
        io: bundled.io,
        config: { ...bundled.config, context_length: 128 },
      })
      assert.notEqual(m.id, bundled.id)
      assert.ok((await listModels(models)).some((x) => x.id === m.id))
      const r = await runTextTask({ prompt: 'hi', max_new_tokens: 4, model: m.id }, models)
      assert.equal(r.completion.model, m.id)
      await assert.rejects(runTextTask({ prompt: 'x'.repeat(200), max_new_tokens: 4, model: m.id }, models), /exceeds the model's context of 128 tokens/)
      await assert.rejects(runImageTask({ prompt: 'x', model: m.id }, models), /is a text model, not image/)
      await assert.rejects(runImageTask({ prompt: 'x', model: 'f'.repeat(64) }, models), /cannot read manifest\.json/)
    })
  })

  describe('image task', () => {
    it('returns N valid PNGs of the requested size', async () => {
      const r = await runImageTask({ prompt: 'a lighthouse in fog', width: 96, height: 64, steps: 4, num_images: 2, seed: 5 }, models)
      assert.equal(r.images.length, 2)
      for (const png of r.images) {
        const meta = await sharp(png).metadata()
        assert.equal(meta.format, 'png')
        assert.equal(meta.width, 96)
        assert.equal(meta.height, 64)
        assert.equal(meta.channels, 3)
      }
      assert.notEqual(sha(r.images[0]!), sha(r.images[1]!))
      // Image i does not depend on how many images were asked for.
      const one = await runImageTask({ prompt: 'a lighthouse in fog', width: 96, height: 64, steps: 4, num_images: 1, seed: 5 }, models)
      assert.equal(sha(one.images[0]!), sha(r.images[0]!))
    })

    it('produces smooth structure, not noise or a flat fill', async () => {
      const r = await runImageTask({ prompt: 'a red fox in the snow', seed: 1, width: 128, height: 128, steps: 10 }, models)
      const { data } = await sharp(r.images[0]!).raw().toBuffer({ resolveWithObject: true })
      let spread = 0,
        step = 0
      const mean = data.reduce((a, b) => a + b, 0) / data.length
      for (let i = 0; i < data.length; i++) spread += Math.abs(data[i]! - mean)
      for (let i = 3; i < data.length; i++) step += Math.abs(data[i]! - data[i - 3]!)
      spread /= data.length
      step /= data.length - 3
      assert.ok(spread > 20, `colour spread ${spread}`)
      assert.ok(step < spread / 3, `neighbouring pixels differ by ${step} on average (spread ${spread})`)
    })

    it('changes structure with the prompt and the seed, and only with them', async () => {
      const base = { prompt: 'a red fox in the snow', seed: 1, width: 128, height: 128, steps: 10 }
      const h = async (a: object) => dctHash((await runImageTask(a, models)).images[0]!)
      const ref = await h(base)
      assert.equal(await h({ ...base }), ref)
      assert.ok(hamming(ref, await h({ ...base, prompt: 'a castle on a hill at sunset' })) >= 8)
      assert.ok(hamming(ref, await h({ ...base, seed: 2 })) >= 8)
      assert.ok(hamming(ref, await h({ ...base, negative_prompt: 'blurry' })) > 0)
    })

    it('falls back from CUDA to CPU with a log line when CUDA is not installed', async function () {
      const logs: string[] = []
      const args = { prompt: 'x', width: 64, height: 64, steps: 2 }
      const r = await runImageTask(args, models, { executionProvider: 'cuda', log: (m) => logs.push(m) })
      if (r.provider === 'cuda') this.skip()
      assert.match(logs.join('\n'), /CUDA execution provider unavailable.*running on CPU/)
      assert.equal(sha(r.images[0]!), sha((await runImageTask(args, models)).images[0]!))
    })
  })

  describe('text task', () => {
    it('returns a chat completion with consistent usage', async () => {
      const r = await runTextTask({ prompt: 'Hello there', max_new_tokens: 24 }, models)
      const c = JSON.parse(new TextDecoder().decode(r.json))
      assert.deepEqual(Object.keys(c), ['id', 'object', 'created', 'model', 'choices', 'usage'])
      assert.equal(c.object, 'chat.completion')
      assert.match(c.id, /^chatcmpl-[0-9a-f]{24}$/)
      assert.equal(c.created, 0)
      assert.equal(c.model, BUNDLED_MODEL_IDS.text)
      assert.equal(c.choices.length, 1)
      const ch = c.choices[0]
      assert.equal(ch.index, 0)
      assert.equal(ch.message.role, 'assistant')
      assert.equal(typeof ch.message.content, 'string')
      // BOS, user role, 11 bytes, EOS, assistant role.
      assert.equal(c.usage.prompt_tokens, 1 + 1 + 11 + 1 + 1)
      assert.equal(c.usage.completion_tokens, new TextEncoder().encode(ch.message.content).length)
      assert.equal(c.usage.total_tokens, c.usage.prompt_tokens + c.usage.completion_tokens)
      assert.equal(ch.finish_reason, c.usage.completion_tokens === 24 ? 'length' : 'stop')
      assert.deepEqual(r.completion, c)
    })

    it('treats prompt as a single user message', async () => {
      const a = await runTextTask({ prompt: 'Hi', max_new_tokens: 8 }, models)
      const b = await runTextTask({ messages: [{ role: 'user', content: 'Hi' }], max_new_tokens: 8 }, models)
      assert.equal(sha(a.json), sha(b.json))
      assert.deepEqual(
        encodeChat([{ role: 'system', content: 'A' }], {
          type: 'byte-level-v1',
          vocab_size: 264,
          bos: 256,
          eos: 257,
          roles: { system: 258, user: 259, assistant: 260 },
        }),
        [256, 258, 65, 257, 260],
      )
    })

    it('is greedy at temperature 0 and seeded otherwise', async () => {
      const text = async (a: object) =>
        (await runTextTask({ prompt: 'Once upon a time', max_new_tokens: 24, ...a }, models)).completion.choices[0]!.message.content
      assert.equal(await text({ seed: 1 }), await text({ seed: 2 }))
      const s1 = await text({ temperature: 1, seed: 1 })
      assert.equal(await text({ temperature: 1, seed: 1 }), s1)
      assert.notEqual(await text({ temperature: 1, seed: 2 }), s1)
      assert.notEqual(await text({ temperature: 1, seed: 1, top_p: 0.5 }), s1)
    })
  })

  describe('determinism across processes', () => {
    it('gives byte-identical PNGs and text JSON in two fresh processes', async () => {
      const IMG = { prompt: 'a quiet harbour at dawn', negative_prompt: 'people', width: 128, height: 96, steps: 8, seed: 42, num_images: 2, guidance_scale: 6 }
      const TXT = {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Name a colour.' },
        ],
        max_new_tokens: 32,
        temperature: 0.9,
        top_p: 0.95,
        seed: 7,
      }
      const script = join(home, 'child.mts') // .mts: /tmp has no package.json saying "type": "module"
      const runners = new URL('../../worker/runners/index.ts', import.meta.url).href
      await writeFile(
        script,
        `
import { createHash } from 'node:crypto'
import { runImageTask, runTextTask } from ${JSON.stringify(runners)}
const dir = process.argv[2]
const img = await runImageTask(${JSON.stringify(IMG)}, dir)
const txt = await runTextTask(${JSON.stringify(TXT)}, dir)
const h = (b) => createHash('sha256').update(b).digest('hex')
process.stdout.write(JSON.stringify({ images: img.images.map(h), text: Buffer.from(txt.json).toString('base64') }))
`,
      )
      const child = () => run(process.execPath, ['--import', 'tsx', script, models], { cwd: REPO, maxBuffer: 1 << 20 })
      const [a, b] = await Promise.all([child(), child()])
      const ra = JSON.parse(a.stdout),
        rb = JSON.parse(b.stdout)
      assert.equal(ra.images.length, 2)
      assert.deepEqual(ra, rb)
      // And the same as this process, whose sessions were warmed by other tests.
      const here = { images: (await runImageTask(IMG, models)).images.map(sha), text: Buffer.from((await runTextTask(TXT, models)).json).toString('base64') }
      assert.deepEqual(here, ra)
      assert.ok(JSON.parse(Buffer.from(ra.text, 'base64').toString()).choices[0].message.content.length > 0)
    })
  })

  describe('argument validation', () => {
    it('fills defaults for a minimal image request', () => {
      assert.deepEqual(validateImageArgs({ prompt: 'x' }), {
        prompt: 'x',
        negative_prompt: '',
        width: 256,
        height: 256,
        steps: 20,
        seed: 0,
        num_images: 1,
        guidance_scale: 7.5,
      })
    })

    it('rejects bad image args naming the field and the rule', () => {
      rejects(() => validateImageArgs({}), /prompt is required/)
      rejects(() => validateImageArgs(null), /args must be an object/)
      rejects(() => validateImageArgs({ prompt: 'x', width: 100 }), /width must be a multiple of 8 \(got 100\)/)
      rejects(() => validateImageArgs({ prompt: 'x', height: 2048 }), /height must be ≤ 1024/)
      rejects(() => validateImageArgs({ prompt: 'x', width: 56 }), /width must be ≥ 64/)
      rejects(() => validateImageArgs({ prompt: 'x', steps: 0 }), /steps must be ≥ 1/)
      rejects(() => validateImageArgs({ prompt: 'x', steps: 101 }), /steps must be ≤ 100/)
      rejects(() => validateImageArgs({ prompt: 'x', steps: 2.5 }), /steps must be an integer/)
      rejects(() => validateImageArgs({ prompt: 'x', seed: -1 }), /seed must be ≥ 0/)
      rejects(() => validateImageArgs({ prompt: 'x', seed: 2 ** 53 }), /seed must be ≤ 9007199254740991/)
      rejects(() => validateImageArgs({ prompt: 'x', num_images: 5 }), /num_images must be ≤ 4/)
      rejects(() => validateImageArgs({ prompt: 'x', guidance_scale: 31 }), /guidance_scale must be ≤ 30/)
      rejects(() => validateImageArgs({ prompt: 'x', guidance_scale: Number.NaN }), /guidance_scale must be a finite number/)
      rejects(() => validateImageArgs({ prompt: 'x'.repeat(2001) }), /prompt must be at most 2000 characters \(got 2001\)/)
      rejects(() => validateImageArgs({ prompt: 7 }), /prompt must be a string \(got 7\)/)
      rejects(() => validateImageArgs({ prompt: 'x', sampler: 'euler' }), /sampler is not a known field/)
      rejects(() => validateImageArgs({ prompt: 'x', model: 'abc' }), /model must match/)
      // Every problem is reported, not only the first.
      rejects(() => validateImageArgs({ prompt: 'x', width: 100, steps: 0 }), /^invalid image task args: .*width.*; .*steps/)
    })

    it('rejects bad text args naming the field and the rule', () => {
      rejects(() => validateTextArgs({}), /one of messages or prompt is required/)
      rejects(() => validateTextArgs({ prompt: 'a', messages: [{ role: 'user', content: 'b' }] }), /either messages or prompt, not both/)
      rejects(() => validateTextArgs({ messages: [] }), /messages must have at least 1 item/)
      rejects(() => validateTextArgs({ messages: [{ role: 'tool', content: 'b' }] }), /messages\[0\]\.role must be one of "system", "user", "assistant"/)
      rejects(() => validateTextArgs({ messages: [{ role: 'user' }] }), /messages\[0\]\.content is required/)
      rejects(() => validateTextArgs({ prompt: 'a', max_new_tokens: 0 }), /max_new_tokens must be ≥ 1/)
      rejects(() => validateTextArgs({ prompt: 'a', max_new_tokens: 513 }), /max_new_tokens must be ≤ 512/)
      rejects(() => validateTextArgs({ prompt: 'a', top_p: 0 }), /top_p must be > 0/)
      rejects(() => validateTextArgs({ prompt: 'a', temperature: 3 }), /temperature must be ≤ 2/)
      rejects(() => validateTextArgs({ prompt: 'a', stream: true }), /stream is not a known field/)
    })

    it('rejects bad args at the runner entry points before touching a model', async () => {
      await assert.rejects(
        runImageTask({ prompt: 'x', width: 65 }, join(home, 'nowhere')),
        (e: unknown) => e instanceof ArgsError && /width must be a multiple of 8/.test(e.message),
      )
      await assert.rejects(
        runTextTask({ prompt: 'x', seed: 1.5 }, join(home, 'nowhere')),
        (e: unknown) => e instanceof ArgsError && /seed must be an integer/.test(e.message),
      )
    })
  })
})
