import assert from 'node:assert/strict'
import { NVIDIA_SMI, NVIDIA_SMI_ARGS, chooseGpuProfile, detectGpu, parseNvidiaSmi, type GpuProfile } from '../../../worker/daemon/gpu.ts'

describe('worker gpu: parseNvidiaSmi', () => {
  it('reports a single card as is, VRAM in whole GiB rounded to the nearest (what the card is sold as)', () => {
    assert.deepEqual(parseNvidiaSmi('NVIDIA GeForce RTX 4090, 24564\n'), { name: 'NVIDIA GeForce RTX 4090', vramGb: 24, count: 1, source: 'nvidia-smi' })
    assert.deepEqual(parseNvidiaSmi('Tesla T4, 16384'), { name: 'Tesla T4', vramGb: 16, count: 1, source: 'nvidia-smi' })
  })

  it('picks the largest group of identical cards and sums its VRAM', () => {
    const csv = 'NVIDIA GeForce RTX 3060, 12288\nNVIDIA GeForce RTX 4090, 24564\nNVIDIA GeForce RTX 3060, 12288\n'
    assert.deepEqual(parseNvidiaSmi(csv), { name: '2x NVIDIA GeForce RTX 3060', vramGb: 24, count: 2, source: 'nvidia-smi' })
  })

  it('groups by name and memory: same name with different memory are different groups', () => {
    const p = parseNvidiaSmi('A100, 40960\nA100, 81920\nA100, 40960')
    assert.equal(p?.name, '2x A100')
    assert.equal(p?.vramGb, 80)
  })

  it('breaks ties by larger per-card VRAM, then by name, whatever the order', () => {
    const big = 'RTX 3060, 12288\nRTX 4090, 24564\n'
    assert.equal(parseNvidiaSmi(big)?.name, 'RTX 4090')
    assert.equal(parseNvidiaSmi(big.split('\n').reverse().join('\n'))?.name, 'RTX 4090')
    const same = 'Card B, 8192\nCard A, 8192\n'
    assert.equal(parseNvidiaSmi(same)?.name, 'Card A')
    assert.equal(parseNvidiaSmi('Card A, 8192\nCard B, 8192')?.name, 'Card A')
    assert.equal(parseNvidiaSmi('B, 8192\nB, 8192\nA, 8192\nA, 8192')?.name, '2x A')
  })

  it('tolerates CRLF, blank lines and extra spaces', () => {
    const p = parseNvidiaSmi('\r\n  NVIDIA L4 ,   23034  \r\n\r\n NVIDIA L4,23034\r\n   \r\n')
    assert.deepEqual(p, { name: '2x NVIDIA L4', vramGb: 45, count: 2, source: 'nvidia-smi' })
  })

  it('reports at least 1 GB', () => {
    assert.equal(parseNvidiaSmi('Tiny, 512')?.vramGb, 1)
  })

  it('returns undefined for empty output', () => {
    assert.equal(parseNvidiaSmi(''), undefined)
    assert.equal(parseNvidiaSmi('\n \r\n'), undefined)
  })

  it('throws on a malformed line, quoting it', () => {
    assert.throws(
      () => parseNvidiaSmi('RTX 4090, 24564\nRTX 4090, [N/A]\n'),
      (err: Error) => err.message.includes('"RTX 4090, [N/A]"'),
    )
    assert.throws(() => parseNvidiaSmi('No devices were found'), /"No devices were found"/)
  })
})

describe('worker gpu: detectGpu', () => {
  it('runs nvidia-smi with the query arguments and reports what it found', async () => {
    let called: [string, string[]] | undefined
    const r = await detectGpu({
      run: async (cmd, args) => {
        called = [cmd, args]
        return 'NVIDIA GeForce RTX 4090, 24564\nNVIDIA GeForce RTX 4090, 24564\n'
      },
    })
    assert.deepEqual(called, [NVIDIA_SMI, NVIDIA_SMI_ARGS])
    assert.deepEqual(NVIDIA_SMI_ARGS, ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'])
    assert.deepEqual(r.profile, { name: '2x NVIDIA GeForce RTX 4090', vramGb: 48, count: 2, source: 'nvidia-smi' })
    assert.equal(r.note, 'detected 2x NVIDIA GeForce RTX 4090 (48 GB) with nvidia-smi')
  })

  it('says no GPU when nvidia-smi is absent', async () => {
    const r = await detectGpu({
      run: async () => {
        throw Object.assign(new Error('spawn nvidia-smi ENOENT'), { code: 'ENOENT' })
      },
    })
    assert.deepEqual(r, { note: 'nvidia-smi not found: no NVIDIA GPU detected' })
    const bare = await detectGpu({ run: () => Promise.reject({ code: 'ENOENT' }) })
    assert.deepEqual(bare, { note: 'nvidia-smi not found: no NVIDIA GPU detected' })
  })

  it('reports other failures without throwing', async () => {
    const r = await detectGpu({
      run: async () => {
        throw Object.assign(new Error('Command failed'), { code: 9, stdout: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n" })
      },
    })
    assert.equal(r.profile, undefined)
    assert.equal(r.note, "nvidia-smi failed: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.")
    const plain = await detectGpu({
      run: async () => {
        throw new Error('boom')
      },
    })
    assert.deepEqual(plain, { note: 'nvidia-smi failed: boom' })
  })

  it('reports unparsable and empty output without throwing', async () => {
    const r = await detectGpu({ run: async () => 'garbage without a comma\n' })
    assert.equal(r.profile, undefined)
    assert.match(r.note, /^nvidia-smi failed: .*"garbage without a comma"/)
    const empty = await detectGpu({ run: async () => '' })
    assert.equal(empty.profile, undefined)
    assert.match(empty.note, /^nvidia-smi failed: /)
  })
})

describe('worker gpu: chooseGpuProfile', () => {
  const detected: GpuProfile = { name: '2x RTX 3060', vramGb: 24, count: 2, source: 'nvidia-smi' }
  const cpu = { name: 'CPU', vramGb: 8 }

  it('prefers the configured override', () => {
    assert.deepEqual(chooseGpuProfile(detected, { name: 'RTX 4090', vramGb: 24 }, cpu), { name: 'RTX 4090', vramGb: 24, count: 1, source: 'config' })
    assert.deepEqual(chooseGpuProfile(undefined, { name: 'RTX 4090', vramGb: 24 }, cpu), { name: 'RTX 4090', vramGb: 24, count: 1, source: 'config' })
  })

  it('then the detected GPU, then the CPU profile', () => {
    assert.deepEqual(chooseGpuProfile(detected, undefined, cpu), detected)
    assert.deepEqual(chooseGpuProfile(undefined, undefined, cpu), { name: 'CPU', vramGb: 8, count: 1, source: 'cpu' })
  })
})

describe('worker gpu: detectGpu with the real runner', () => {
  it('never throws, whether or not nvidia-smi is installed', async function () {
    this.timeout(15_000)
    const r = await detectGpu()
    assert.match(r.note, /^(nvidia-smi not found: no NVIDIA GPU detected|nvidia-smi failed: .+|detected .+ \(\d+ GB\) with nvidia-smi)$/)
    assert.equal(r.profile === undefined, !r.note.startsWith('detected '))
  })
})
