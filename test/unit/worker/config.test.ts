import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parse as parseToml } from 'smol-toml'
import {
  WORKER_CONFIG_FILE,
  loadWorkerConfig,
  renderWorkerConfig,
  workerConfigPath,
  writeWorkerConfig,
  type WorkerConfigInput,
} from '../../../worker/daemon/config.ts'

const PEER = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'
const GATEWAY = `/ip4/127.0.0.1/tcp/4001/p2p/${PEER}`
const MINIMAL: WorkerConfigInput = { chainId: 'beryl-devnet-1', nodeRpc: 'http://127.0.0.1:26657', gateways: [GATEWAY] }

describe('worker config: worker.toml', () => {
  let home: string
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-wcfg-'))
  })
  afterEach(() => {
    fs.rmSync(home, { recursive: true, force: true })
  })

  /** Writes a valid file, then replaces `from` with `to` in its text (asserting `from` was there). */
  const writeEdited = (from: string | RegExp, to: string) => {
    const file = writeWorkerConfig(home, MINIMAL)
    const text = fs.readFileSync(file, 'utf8')
    assert.match(text, typeof from === 'string' ? new RegExp(from.replace(/[[\]().*+?^$|\\]/g, '\\$&'), 'm') : from)
    fs.writeFileSync(file, text.replace(from, to))
    return file
  }
  /** Asserts that loading fails with a message naming the file and matching `re`. */
  const loadFails = (re: RegExp) =>
    assert.throws(
      () => loadWorkerConfig(home),
      (err: Error) => {
        assert.ok(err.message.startsWith(`${workerConfigPath(home)}: `), err.message)
        assert.match(err.message, re)
        return true
      },
    )

  it('puts the file at <home>/config/worker.toml', () => {
    assert.equal(WORKER_CONFIG_FILE, 'config/worker.toml')
    assert.equal(workerConfigPath('/x'), path.join('/x', 'config', 'worker.toml'))
  })

  it('round-trips every field through render, write and load', () => {
    const input: WorkerConfigInput = {
      chainId: 'beryl-testnet-7',
      nodeRpc: 'https://rpc.example.org:443',
      gateways: [GATEWAY, `/dns4/gw.example.org/tcp/4001/p2p/${PEER}`],
      key: 'gpu-box_1.a',
      keyringBackend: 'test',
      modelDir: '/srv/beryl/models',
      executionProvider: 'cuda',
      gasPrice: '1uberyl',
      stake: '500000000',
      gpu: { name: 'NVIDIA GeForce "RTX" 4090', vramGb: 24 },
      cpuProfile: { name: 'AMD EPYC', vramGb: 64 },
    }
    const file = writeWorkerConfig(home, input)
    assert.equal(file, workerConfigPath(home))
    assert.equal(fs.readFileSync(file, 'utf8'), renderWorkerConfig(input))
    assert.deepEqual(loadWorkerConfig(home), { ...input, home })
  })

  it('applies the defaults when rendering and loading', () => {
    writeWorkerConfig(home, MINIMAL)
    assert.deepEqual(loadWorkerConfig(home), {
      ...MINIMAL,
      home,
      key: 'worker',
      keyringBackend: 'file',
      modelDir: path.join(home, 'models'),
      executionProvider: 'cpu',
      gasPrice: '0.025uberyl',
      cpuProfile: { name: 'CPU', vramGb: 8 },
    })
    const text = renderWorkerConfig(MINIMAL)
    assert.deepEqual(JSON.parse(JSON.stringify(parseToml(text))), {
      chain_id: 'beryl-devnet-1',
      node_rpc: 'http://127.0.0.1:26657',
      gateways: [GATEWAY],
      key: 'worker',
      keyring_backend: 'file',
      model_dir: 'models',
      execution_provider: 'cpu',
      gas_price: '0.025uberyl',
      stake: '',
      metrics: { address: '' },
      cpu_profile: { name: 'CPU', vram_gb: 8 },
    })
    // A file holding only the required keys gets the same defaults.
    fs.writeFileSync(workerConfigPath(home), `chain_id = "c"\nnode_rpc = "http://n:1"\ngateways = ["${GATEWAY}"]\n`)
    const c = loadWorkerConfig(home)
    assert.equal(c.key, 'worker')
    assert.equal(c.stake, undefined)
    assert.equal(c.gpu, undefined)
    assert.deepEqual(c.cpuProfile, { name: 'CPU', vramGb: 8 })
  })

  it('comments every key and writes [gpu] commented out when absent', () => {
    const text = renderWorkerConfig(MINIMAL)
    const lines = text.split('\n')
    lines.forEach((line, i) => {
      if (/^\w+ = /.test(line)) assert.match(lines[i - 1]!, /^# /, `no comment above ${line}`)
    })
    assert.match(text, /^# \[gpu\]$/m)
    assert.doesNotMatch(text, /^\[gpu\]$/m)
    assert.match(renderWorkerConfig({ ...MINIMAL, gpu: { name: 'X', vramGb: 2 } }), /^\[gpu\]\n# .*\nname = "X"\n# .*\nvram_gb = 2$/m)
  })

  it('resolves a relative model_dir against the home', () => {
    writeWorkerConfig(home, { ...MINIMAL, modelDir: 'data/../weights' })
    assert.equal(loadWorkerConfig(home).modelDir, path.join(home, 'weights'))
    assert.ok(path.isAbsolute(loadWorkerConfig(home).modelDir))
  })

  it('refuses to overwrite an existing file unless asked to', () => {
    writeWorkerConfig(home, MINIMAL)
    assert.throws(() => writeWorkerConfig(home, { ...MINIMAL, chainId: 'other' }), /already exists/)
    assert.equal(loadWorkerConfig(home).chainId, 'beryl-devnet-1')
    writeWorkerConfig(home, { ...MINIMAL, chainId: 'other' }, { overwrite: true })
    assert.equal(loadWorkerConfig(home).chainId, 'other')
  })

  it('refuses to write invalid values', () => {
    assert.throws(() => writeWorkerConfig(home, { ...MINIMAL, gateways: [] }), /gateways must be a non-empty array/)
    assert.equal(fs.existsSync(workerConfigPath(home)), false)
  })

  it('tells the user to run init when the file is missing', () => {
    assert.throws(
      () => loadWorkerConfig(home),
      (err: Error) => err.message.includes(workerConfigPath(home)) && err.message.includes(`beryld worker init --home ${home}`),
    )
  })

  it('rejects unknown keys, at the top level and in tables', () => {
    writeEdited('gas_price = ', 'gas_prise = ')
    loadFails(/unknown key gas_prise/)
    writeWorkerConfig(home, MINIMAL, { overwrite: true })
    fs.appendFileSync(workerConfigPath(home), 'vram = 4\n')
    loadFails(/unknown key cpu_profile\.vram\b/)
  })

  it('[metrics] address: "" is off, host:port serves /metrics, anything else is refused', () => {
    const file = writeWorkerConfig(home, { ...MINIMAL, metricsAddress: '127.0.0.1:9464' })
    assert.equal(loadWorkerConfig(home).metricsAddress, '127.0.0.1:9464')
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('address = "127.0.0.1:9464"', 'address = "no port"'))
    loadFails(/metrics\.address must be "" \(off\) or host:port/)
    writeWorkerConfig(home, MINIMAL, { overwrite: true })
    assert.equal(loadWorkerConfig(home).metricsAddress, undefined)
  })

  it('rejects a missing required key', () => {
    writeEdited(/^chain_id = .*\n/m, '')
    loadFails(/chain_id must be .*got nothing/)
  })

  it('rejects a gateway that is not a multiaddr ending in /p2p/<peer id>', () => {
    for (const bad of [
      '/ip4/127.0.0.1/tcp/4001',
      'ip4/127.0.0.1/tcp/4001/p2p/' + PEER,
      '/ip4/999.1.1.1/tcp/4001/p2p/' + PEER,
      '/ip4/127.0.0.1/tcp/4001/p2p/notapeerid',
      `/ip4/127.0.0.1/tcp/4001/p2p/${PEER}/p2p-circuit`,
    ]) {
      writeEdited(`gateways = [ "${GATEWAY}" ]`, `gateways = [ "${GATEWAY}", "${bad}" ]`)
      loadFails(new RegExp(`gateways\\[1\\] must be a multiaddr ending in /p2p/<peer id>, got "${bad.replace(/\./g, '\\.')}"`))
      fs.rmSync(workerConfigPath(home))
    }
    writeEdited(`gateways = [ "${GATEWAY}" ]`, 'gateways = [ ]')
    loadFails(/gateways must be a non-empty array/)
  })

  it('rejects a bad key name, keyring backend, provider, gas price, stake and node_rpc', () => {
    const cases: Array<[RegExp, string, RegExp]> = [
      [/^key = .*$/m, 'key = "my key"', /key must be a key name .*got "my key"/],
      [/^keyring_backend = .*$/m, 'keyring_backend = "os"', /keyring_backend must be "file" or "test", got "os"/],
      [/^execution_provider = .*$/m, 'execution_provider = "rocm"', /execution_provider must be "cpu" or "cuda", got "rocm"/],
      [/^gas_price = .*$/m, 'gas_price = "0.025"', /gas_price must be .*got "0.025"/],
      [/^stake = .*$/m, 'stake = "0"', /stake must be .*positive whole number.*got "0"/],
      [/^stake = .*$/m, 'stake = "1.5"', /stake must be .*got "1.5"/],
      [/^stake = .*$/m, 'stake = 100', /stake must be .*got 100/],
      [/^node_rpc = .*$/m, 'node_rpc = "tcp://127.0.0.1:26657"', /node_rpc must be an http\(s\) URL.*got "tcp:/],
      [/^chain_id = .*$/m, 'chain_id = ""', /chain_id must be a non-empty/],
    ]
    for (const [from, to, re] of cases) {
      writeEdited(from, to)
      loadFails(re)
      fs.rmSync(workerConfigPath(home))
    }
  })

  it('rejects a bad gpu or cpu_profile', () => {
    const gpu = { ...MINIMAL, gpu: { name: 'RTX 4090', vramGb: 24 } }
    const cases: Array<[WorkerConfigInput, RegExp, string, RegExp]> = [
      [gpu, /^vram_gb = 24$/m, 'vram_gb = 0', /gpu\.vram_gb must be a whole number of GB from 1 to 4096, got 0/],
      [gpu, /^vram_gb = 24$/m, 'vram_gb = 24.5', /gpu\.vram_gb must be .*got 24\.5/],
      [gpu, /^vram_gb = 24$/m, 'vram_gb = 4097', /gpu\.vram_gb must be .*got 4097/],
      [gpu, /^vram_gb = 24$/m, 'vram_gb = "24"', /gpu\.vram_gb must be .*got "24"/],
      [gpu, /^vram_gb = 24$/m, '', /gpu\.vram_gb must be .*got nothing/],
      [gpu, /^name = "RTX 4090"$/m, `name = "${'x'.repeat(129)}"`, /gpu\.name must be a name of 1\.\.128 printable characters/],
      [gpu, /^name = "RTX 4090"$/m, 'name = "RTX\\n4090"', /gpu\.name must be/],
      [gpu, /^name = "RTX 4090"$/m, 'name = "  "', /gpu\.name must be/],
      [MINIMAL, /^stake = .*$/m, 'stake = ""\ngpu = "RTX 4090"', /gpu must be a table with name and vram_gb, got "RTX 4090"/],
      [MINIMAL, /^vram_gb = 8$/m, 'vram_gb = -1', /cpu_profile\.vram_gb must be .*got -1/],
    ]
    for (const [input, from, to, re] of cases) {
      const file = writeWorkerConfig(home, input)
      const text = fs.readFileSync(file, 'utf8')
      assert.match(text, from)
      fs.writeFileSync(file, text.replace(from, to))
      loadFails(re)
      fs.rmSync(file)
    }
  })

  it('rejects text that is not TOML, naming the file', () => {
    fs.mkdirSync(path.join(home, 'config'))
    fs.writeFileSync(workerConfigPath(home), 'chain_id = "unterminated\n')
    loadFails(/not valid TOML/)
  })

  it('applies and validates overrides', () => {
    writeWorkerConfig(home, MINIMAL)
    const c = loadWorkerConfig(home, { nodeRpc: 'https://other:443', modelDir: 'm2', stake: '7', gpu: { name: 'L4', vramGb: 22 } })
    assert.equal(c.nodeRpc, 'https://other:443')
    assert.equal(c.modelDir, path.join(home, 'm2'))
    assert.equal(c.stake, '7')
    assert.deepEqual(c.gpu, { name: 'L4', vramGb: 22 })
    assert.equal(c.chainId, 'beryl-devnet-1')
    assert.throws(
      () => loadWorkerConfig(home, { executionProvider: 'rocm' as 'cpu' }),
      /execution_provider \(as overridden\) must be "cpu" or "cuda", got "rocm"/,
    )
  })
})
