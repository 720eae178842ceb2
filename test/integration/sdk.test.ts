import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import { createServer, connect as tcpConnect, type AddressInfo, type Socket } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { BerylClient, TaskStatus, type Progress } from '../../sdk/index.ts'
import { phashPng } from '../../outputs/phash/phash.ts'
import { ROOT } from '../helpers/node.ts'
import { startTestDevnet, type TestDevnet } from '../helpers/devnet.ts'

const run = promisify(execFile)
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')

describe('SDK: the verified-task flow against a devnet with three workers (every task sampled)', function () {
  this.timeout(300_000)
  let net: TestDevnet
  let dir: string
  const client = async (account = 0, keyStoreDir = path.join(dir, 'keys')) => {
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(net.info.accounts[account]!.mnemonic, { prefix: 'beryl' })
    return BerylClient.connect(net.info.rpc, wallet, { gateways: [net.info.gateway], keyStoreDir })
  }
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-sdk-'))
    net = await startTestDevnet(['--sample-all', '--quiet'])
  })
  after(async () => {
    await net?.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('a sampled task completes as a validation group: three nodes, one output delivered and checked', async () => {
    const c = await client()
    try {
      const stages: Progress['stage'][] = []
      const r = await c.runTask({
        type: 'image',
        args: { prompt: 'a harbour at noon', width: 128, height: 128, steps: 8, seed: 1 },
        fee: 3_000_000n,
        onProgress: (p) => stages.push(p.stage),
      })
      assert.equal(r.sampled, true)
      assert.equal(r.group.length, 3)
      assert.equal(new Set(r.group.map((t) => t.selectedNode)).size, 3, 'three different nodes')
      assert.equal(r.task.status, TaskStatus.TASK_STATUS_END_GROUP_SUCCESS)
      assert.deepEqual(
        r.group.filter((t) => t !== r.task).map((t) => t.status),
        [TaskStatus.TASK_STATUS_END_GROUP_REFUND, TaskStatus.TASK_STATUS_END_GROUP_REFUND],
      )
      assert.deepEqual(Buffer.from(await phashPng(r.outputs[0]!)), Buffer.from(r.task.score))
      assert.equal(r.feePaid, 9_000_000n, 'three runs, each paid its own fee (docs/decisions/0025)')
      for (const s of ['created', 'sampled', 'started', 'scored', 'attested', 'downloaded'] as const) assert.ok(stages.includes(s), `progress reported ${s}`)
      assert.ok(r.heights.delivered > r.heights.created)
    } finally {
      c.disconnect()
    }
  })

  it('an app killed right after creating its task: resumeTask validates and downloads it', async () => {
    const keys = path.join(dir, 'crash-keys')
    const acct = net.info.accounts[1]!
    const child = spawn(
      process.execPath,
      ['--import', TSX, path.join(ROOT, 'test/fixtures/sdk-crash-app.ts'), net.info.rpc, acct.mnemonic, net.info.gateway, keys],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    child.stdout!.on('data', (d) => {
      out += d
    })
    child.stderr!.on('data', (d) => {
      out += d
    })
    const signal = await new Promise((r) => child.once('exit', (_c, s) => r(s)))
    assert.equal(signal, 'SIGKILL', out)
    const commitment = /created ([0-9a-f]{64})/.exec(out)![1]!

    const c = await client(1, keys)
    try {
      const r = await c.resumeTask(commitment)
      assert.equal(r.sampled, true)
      assert.ok(r.commitments.includes(commitment))
      assert.equal(r.task.status, TaskStatus.TASK_STATUS_END_GROUP_SUCCESS)
      assert.deepEqual(Buffer.from(await phashPng(r.outputs[0]!)), Buffer.from(r.task.score))
      assert.equal(c.keys.findByCommitment(commitment)!.done, true)
    } finally {
      c.disconnect()
    }
  })

  it('a consumer package that imports only the public entry type-checks and runs a text task', async () => {
    const app = path.join(dir, 'consumer')
    fs.mkdirSync(path.join(app, 'node_modules'), { recursive: true })
    fs.symlinkSync(ROOT, path.join(app, 'node_modules', 'beryl'))
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }))
    fs.writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          allowImportingTsExtensions: true,
          types: ['node'],
          typeRoots: [path.join(ROOT, 'node_modules/@types')],
        },
        files: ['app.ts'],
      }),
    )
    fs.writeFileSync(
      path.join(app, 'app.ts'),
      `import { BerylClient, type TaskResult } from 'beryl'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'

const [rpc, mnemonic, gateway, keys] = process.argv.slice(2) as [string, string, string, string]
const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: 'beryl' })
const client = await BerylClient.connect(rpc, wallet, { gateways: [gateway], keyStoreDir: keys })
const r: TaskResult = await client.runTask({ type: 'text', args: { prompt: 'Say hello', max_new_tokens: 16 } })
client.disconnect()
const completion = JSON.parse(new TextDecoder().decode(r.outputs[0]))
const first = r.group.reduce((a, t) => (t.sequence < a.sequence ? t : a))
console.log(JSON.stringify({ sampled: r.sampled, choices: completion.choices.length, status: r.task.status, pinned: r.group.filter((t) => t !== first).map((t) => t.requiredGpu) }))
`,
    )
    // The consumer resolves cosmjs through the linked package, as an npm install would.
    fs.symlinkSync(path.join(ROOT, 'node_modules', '@cosmjs'), path.join(app, 'node_modules', '@cosmjs'))
    const tsc = await run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app]).catch((e) => e)
    assert.equal(tsc.code ?? 0, 0, `tsc: ${tsc.stdout}${tsc.stderr}`)
    const r = await run(
      process.execPath,
      ['--import', TSX, path.join(app, 'app.ts'), net.info.rpc, net.info.accounts[2]!.mnemonic, net.info.gateway, path.join(app, 'keys')],
      { cwd: app, timeout: 240_000 },
    )
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!)
    assert.deepEqual(
      res,
      { sampled: true, choices: 1, status: TaskStatus.TASK_STATUS_END_GROUP_SUCCESS, pinned: ['CPU', 'CPU'] },
      "the validation tasks require the first task's GPU",
    )
  })

  it('the node unreachable for seconds while the task waits and while it validates: the SDK polls again and the task completes', async () => {
    // A TCP relay to the node's RPC that, during an outage, resets every connection (what an overloaded node or a
    // dropped link looks like to undici: "fetch failed").
    const target = new URL(net.info.rpc)
    let down = false
    let resets = 0
    const open = new Set<Socket>()
    const relay = createServer((inbound) => {
      if (down) {
        resets++
        inbound.resetAndDestroy()
        return
      }
      const outbound = tcpConnect(Number(target.port), target.hostname)
      open.add(inbound)
      inbound.on('close', () => open.delete(inbound))
      inbound.pipe(outbound).pipe(inbound)
      inbound.on('error', () => outbound.destroy())
      outbound.on('error', () => inbound.destroy())
    })
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r))
    const outage = (ms: number) => {
      down = true
      for (const sock of open) sock.resetAndDestroy()
      setTimeout(() => (down = false), ms)
    }
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(net.info.accounts[0]!.mnemonic, { prefix: 'beryl' })
    const c = await BerylClient.connect(`http://127.0.0.1:${(relay.address() as AddressInfo).port}`, wallet, {
      gateways: [net.info.gateway],
      keyStoreDir: path.join(dir, 'keys-outage'),
    })
    try {
      const r = await c.runTask({
        type: 'image',
        args: { prompt: 'a quay in the rain', width: 64, height: 64, steps: 2, seed: 7 },
        onProgress: (p) => {
          if (p.stage === 'created' || p.stage === 'scored') outage(3_000)
        },
      })
      assert.ok(resets > 0, 'the relay refused connections during the outages')
      assert.equal(r.task.status, TaskStatus.TASK_STATUS_END_GROUP_SUCCESS)
      assert.deepEqual(Buffer.from(await phashPng(r.outputs[0]!)), Buffer.from(r.task.score))
    } finally {
      c.disconnect()
      relay.close()
      for (const sock of open) sock.destroy()
    }
  })
})

describe("the README's first command (npm run devnet): a devnet whose demo writes a PNG", function () {
  this.timeout(300_000)
  it('writes a PNG whose pHash is the score the chain recorded', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-readme-'))
    try {
      const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
      const first = /## Quick start\s+```bash\n([^\n]+)/.exec(readme)![1]!.split('#')[0]!.trim()
      assert.equal(first, 'npm run devnet')
      const r = await run('npm', ['run', 'devnet', '--', '--random-ports', '--exit-after-demo', '--quiet', '--output', 'json', '--home', home], {
        cwd: ROOT,
        timeout: 280_000,
        maxBuffer: 1 << 26,
      })
      const demo = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{"demo":'))!).demo
      assert.ok(fs.existsSync(demo.png))
      const { phashHex } = await import('../../outputs/phash/phash.ts')
      assert.equal(phashHex(await phashPng(fs.readFileSync(demo.png))), demo.score)
      assert.match(demo.node, /^beryl1/)
    } finally {
      fs.rmSync(home, { recursive: true, force: true })
    }
  })
})
