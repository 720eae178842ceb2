// Benchmark: the TypeScript pHash port against goimagehash on the same files.
//
//   node --import tsx --import ./chain/polyfill.ts bench/phash.ts [--images 20] [--rounds 5]
//
// Writes ~20 photo-like 512×512 RGB PNGs (what the SD runner produces) to a
// temp dir, builds the Go reference program from test/vectors/phash into the
// same temp dir, checks both sides agree on every hash, then times decode +
// hash on both. Go is timed with its default GOMAXPROCS (nfnt/resize splits
// each resize across goroutines) and with GOMAXPROCS=1 to compare one core
// with one core; the TS port runs on one thread (zlib inflate on libuv's pool).

import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { decodePng, perceptionHash, phashHex, phashPng } from '../outputs/phash/phash.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const goDir = join(root, 'test', 'vectors', 'phash')

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : dflt
}
const nImages = arg('images', 20)
const rounds = arg('rounds', 5)
const SIZE = 512

// Smooth low-frequency colour fields plus grain: compresses and filters like
// a photo rather than like flat synthetic art. Deterministic per index.
function photoLike(seed: number): Buffer {
  let s = (seed * 0x9e3779b1) >>> 0
  const rnd = (): number => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s / 2 ** 32
  }
  const waves = Array.from({ length: 6 }, () => ({ fx: rnd() * 0.03, fy: rnd() * 0.03, ph: rnd() * 6.28, c: [rnd(), rnd(), rnd()] }))
  const buf = Buffer.alloc(SIZE * SIZE * 3)
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      for (let c = 0; c < 3; c++) {
        let v = 0
        for (const w of waves) v += w.c[c]! * Math.sin(x * w.fx + y * w.fy + w.ph)
        buf[(y * SIZE + x) * 3 + c] = Math.max(0, Math.min(255, 128 + v * 40 + (rnd() - 0.5) * 24))
      }
    }
  }
  return buf
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'phash-bench-'))
  try {
    console.log(`writing ${nImages} ${SIZE}x${SIZE} PNGs to ${dir} ...`)
    const files: Uint8Array[] = []
    for (let i = 0; i < nImages; i++) {
      const png = await sharp(photoLike(i + 1), { raw: { width: SIZE, height: SIZE, channels: 3 } })
        .png()
        .toBuffer()
      const name = join(dir, `${String(i).padStart(3, '0')}.png`)
      writeFileSync(name, png)
      files.push(png)
    }
    const mb = files.reduce((n, f) => n + f.length, 0) / 1e6
    console.log(`  ${mb.toFixed(1)} MB of PNG`)

    console.log('building the Go reference program ...')
    const bin = join(dir, 'phash-vectors')
    execFileSync('go', ['build', '-o', bin, '.'], { cwd: goDir, stdio: ['ignore', 'inherit', 'inherit'] })

    // Agreement first: a fast wrong answer is not interesting.
    const vecFile = join(dir, 'vectors.json')
    execFileSync(bin, ['-dir', dir, '-out', vecFile], { stdio: ['ignore', 'ignore', 'inherit'] })
    const goVectors = (JSON.parse(readFileSync(vecFile, 'utf8')) as { vectors: Record<string, { hash: string }> }).vectors
    for (let i = 0; i < nImages; i++) {
      const name = `${String(i).padStart(3, '0')}.png`
      const ts = phashHex(await phashPng(files[i]!))
      if (ts !== goVectors[name]?.hash) throw new Error(`${name}: TS ${ts} but Go ${goVectors[name]?.hash}`)
    }
    console.log(`  all ${nImages} hashes agree with goimagehash`)

    // TS: one warm-up pass, then timed rounds (decode and hash timed apart).
    for (const f of files) await phashPng(f)
    let decodeNs = 0n,
      hashNs = 0n
    for (let r = 0; r < rounds; r++) {
      for (const f of files) {
        const t0 = process.hrtime.bigint()
        const img = await decodePng(f)
        const t1 = process.hrtime.bigint()
        perceptionHash(img)
        const t2 = process.hrtime.bigint()
        decodeNs += t1 - t0
        hashNs += t2 - t1
      }
    }
    const n = rounds * nImages
    const tsSeconds = Number(decodeNs + hashNs) / 1e9
    const tsRate = n / tsSeconds
    console.log(
      `TS port:      ${n} images in ${tsSeconds.toFixed(3)}s = ${tsRate.toFixed(1)} images/s ` +
        `(decode ${((100 * Number(decodeNs)) / Number(decodeNs + hashNs)).toFixed(0)}%)`,
    )

    const goRun = (env: NodeJS.ProcessEnv): number => {
      const out = execFileSync(bin, ['-dir', dir, '-bench', String(rounds)], { env: { ...process.env, ...env }, encoding: 'utf8' })
      const m = /BENCH images=(\d+) seconds=([\d.]+)/.exec(out)
      if (!m) throw new Error(`unexpected Go bench output: ${out}`)
      console.log(out.split('\n').find((l) => l.startsWith('goimagehash:')))
      return Number(m[1]) / Number(m[2])
    }
    const goRate = goRun({})
    const goRate1 = goRun({ GOMAXPROCS: '1' })
    console.log('')
    console.log(`images/s   TS ${tsRate.toFixed(1)}   Go ${goRate.toFixed(1)}   Go(1 core) ${goRate1.toFixed(1)}`)
    console.log(`ratio TS/Go = ${(tsRate / goRate).toFixed(2)}   TS/Go(1 core) = ${(tsRate / goRate1).toFixed(2)}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
