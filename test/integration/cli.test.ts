import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { toBech32 } from '@cosmjs/encoding'
import { pickPorts, waitForHeight } from '../../cli/devnet.ts'
import { BERYLD, ROOT, runBeryld, waitFor } from '../helpers/node.ts'

const run = promisify(execFile)

const beryld = runBeryld

const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'

describe('beryld CLI', function () {
  this.timeout(180_000)
  let home: string
  before(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-cli-'))
  })
  after(() => {
    fs.rmSync(home, { recursive: true, force: true })
  })

  describe('keys', () => {
    const env = { BERYL_KEYRING_PASSPHRASE: 'correct horse battery staple' }
    it('add creates a key, prints its mnemonic once, and derives the cosmjs address', async () => {
      const r = await beryld(['keys', 'add', 'alice', '--home', home, '-o', 'json'], { env })
      assert.equal(r.code, 0, r.stderr)
      const out = JSON.parse(r.stdout)
      assert.equal(out.mnemonic.split(' ').length, 24)
      const w = await DirectSecp256k1HdWallet.fromMnemonic(out.mnemonic, { prefix: 'beryl' })
      assert.equal((await w.getAccounts())[0]!.address, out.address)
      const file = fs.readFileSync(path.join(home, 'keyring-file', 'alice.json'), 'utf8')
      assert.ok(!file.includes(out.mnemonic.split(' ')[0] + ' '), 'the file keyring does not store the mnemonic in the clear')
    })
    it('import (recover) from standard input gives the well-known address of a test mnemonic', async () => {
      const r = await beryld(['keys', 'add', 'bob', '--recover', '--home', home, '-o', 'json'], { env, input: MNEMONIC })
      assert.equal(r.code, 0, r.stderr)
      const w = await DirectSecp256k1HdWallet.fromMnemonic(MNEMONIC, { prefix: 'beryl' })
      assert.equal(JSON.parse(r.stdout).address, (await w.getAccounts())[0]!.address)
    })
    it('list and show', async () => {
      const l = JSON.parse((await beryld(['keys', 'list', '--home', home, '-o', 'json'])).stdout)
      assert.deepEqual(
        l.map((k: { name: string }) => k.name),
        ['alice', 'bob'],
      )
      const a = await beryld(['keys', 'show', 'bob', '-a', '--home', home])
      assert.match(a.stdout.trim(), /^beryl1[0-9a-z]{38}$/)
    })
    it('export needs --unsafe and the right passphrase', async () => {
      assert.notEqual((await beryld(['keys', 'export', 'bob', '--home', home], { env })).code, 0)
      const bad = await beryld(['keys', 'export', 'bob', '--unsafe', '--home', home], { env: { BERYL_KEYRING_PASSPHRASE: 'wrong' } })
      assert.notEqual(bad.code, 0)
      assert.match(bad.stderr, /wrong passphrase/)
      const ok = await beryld(['keys', 'export', 'bob', '--unsafe', '--home', home], { env })
      assert.equal(ok.stdout.trim(), MNEMONIC)
    })
    it('rejects a bad mnemonic, a duplicate name and a bad key name with clear errors', async () => {
      const r1 = await beryld(['keys', 'import', 'carol', '--home', home], { env, input: 'not a mnemonic at all' })
      assert.match(r1.stderr, /invalid mnemonic/)
      const r2 = await beryld(['keys', 'add', 'alice', '--home', home], { env })
      assert.match(r2.stderr, /already exists/)
      const r3 = await beryld(['keys', 'add', '../evil', '--home', home], { env })
      assert.match(r3.stderr, /invalid key name/)
      const r4 = await beryld(['keys', 'add', 'dave', '--home', home])
      assert.match(r4.stderr, /BERYL_KEYRING_PASSPHRASE/)
    })
    it('delete needs --yes', async () => {
      assert.notEqual((await beryld(['keys', 'delete', 'alice', '--home', home])).code, 0)
      assert.equal((await beryld(['keys', 'delete', 'alice', '--yes', '--home', home])).code, 0)
      assert.match((await beryld(['keys', 'show', 'alice', '--home', home])).stderr, /no key named "alice"/)
    })
  })

  describe('init, genesis, start, status, tx and query against a real node', () => {
    let node: ReturnType<typeof spawn> | undefined
    let nodeOut = ''
    let addr: string, rpcPort: number
    const nodeHome = () => path.join(home, 'node')
    after(async () => {
      if (node && node.exitCode === null) {
        node.kill('SIGTERM')
        await new Promise((r) => node!.once('exit', r))
      }
    })

    it('init writes config, genesis and app.toml under --home, and refuses to overwrite', async () => {
      const p = await pickPorts(true)
      rpcPort = p.rpc
      const args = [
        'init',
        'mynode',
        '--chain-id',
        'beryl-cli-1',
        '--home',
        nodeHome(),
        '--rpc-port',
        String(p.rpc),
        '--p2p-port',
        String(p.p2p),
        '--abci-port',
        String(p.abci),
        '--grpc-port',
        String(p.grpc),
        '--api-port',
        String(p.api),
        '--gateway-port',
        String(p.gateway),
        '--listen-host',
        '127.0.0.1',
      ]
      const r = await beryld(args)
      assert.equal(r.code, 0, r.stderr)
      for (const f of ['config/config.toml', 'config/genesis.json', 'config/app.toml', 'config/priv_validator_key.json', 'config/node_key.json']) {
        assert.ok(fs.existsSync(path.join(nodeHome(), f)), f)
      }
      const g = JSON.parse(fs.readFileSync(path.join(nodeHome(), 'config/genesis.json'), 'utf8'))
      assert.equal(g.chain_id, 'beryl-cli-1')
      assert.match(fs.readFileSync(path.join(nodeHome(), 'config/config.toml'), 'utf8'), new RegExp(`laddr = "tcp://127.0.0.1:${p.rpc}"`))
      assert.match((await beryld(args)).stderr, /already exists; use --overwrite/)
    })

    it('genesis add-account funds a test-keyring key and an address', async () => {
      const k = await beryld(['keys', 'add', 'val', '--keyring-backend', 'test', '--home', nodeHome(), '-o', 'json'])
      addr = JSON.parse(k.stdout).address
      assert.equal((await beryld(['genesis', 'add-account', 'val', '10beryl', '--keyring-backend', 'test', '--home', nodeHome()])).code, 0)
      assert.equal((await beryld(['genesis', 'add-account', addr, '5uberyl', '--home', nodeHome()])).code, 0)
      const g = JSON.parse(fs.readFileSync(path.join(nodeHome(), 'config/genesis.json'), 'utf8'))
      assert.deepEqual(g.app_state.bank.balances, [{ address: addr, coins: [{ denom: 'uberyl', amount: '10000005' }] }])
      assert.match((await beryld(['genesis', 'add-account', 'beryl1nope', '5uberyl', '--home', nodeHome()])).stderr, /invalid address/)
      assert.match((await beryld(['genesis', 'add-account', addr, '5', '--home', nodeHome()])).stderr, /invalid coin/)
    })

    it('start runs the node; status, query and tx work with --output json', async () => {
      node = spawn(BERYLD, ['start', '--home', nodeHome()], { stdio: ['ignore', 'pipe', 'pipe'] })
      node.stdout!.on('data', (d) => {
        nodeOut += d
      })
      node.stderr!.on('data', (d) => {
        nodeOut += d
      })
      await waitForHeight(`http://127.0.0.1:${rpcPort}`, 1n)
      const st = JSON.parse((await beryld(['status', '--home', nodeHome(), '-o', 'json'])).stdout)
      assert.equal(st.node_info.network, 'beryl-cli-1')
      const bal = JSON.parse((await beryld(['query', 'bank', 'balances', addr, '--home', nodeHome(), '-o', 'json'])).stdout)
      assert.deepEqual(bal.balances, [{ denom: 'uberyl', amount: '10000005' }])
      const to = toBech32('beryl', new Uint8Array(20).fill(1))
      const tx = await beryld(['tx', 'bank', 'send', 'val', to, '0.5beryl', '--keyring-backend', 'test', '--home', nodeHome(), '-o', 'json'])
      assert.equal(tx.code, 0, tx.stderr + tx.stdout)
      const res = JSON.parse(tx.stdout)
      assert.equal(res.code, 0)
      assert.match(res.txhash, /^[0-9A-F]{64}$/)
      const got = JSON.parse((await beryld(['q', 'bank', 'balances', to, '--denom', 'uberyl', '--home', nodeHome(), '-o', 'json'])).stdout)
      assert.deepEqual(got.balances, [{ denom: 'uberyl', amount: '500000' }])
      const acc = JSON.parse((await beryld(['query', 'auth', 'account', addr, '--home', nodeHome(), '-o', 'json'])).stdout)
      assert.equal(acc.sequence, 1)
      const missing = await beryld(['query', 'auth', 'account', toBech32('beryl', new Uint8Array(20).fill(2)), '--home', nodeHome()])
      assert.equal(missing.code, 1)
      assert.match(missing.stdout, /not found/)
    })

    it('a failing tx exits non-zero with its code', async () => {
      // With --gas auto the simulation already fails and nothing is broadcast.
      const sim = await beryld(['tx', 'bank', 'send', 'val', addr, '999999beryl', '--keyring-backend', 'test', '--home', nodeHome(), '-o', 'json'])
      assert.equal(sim.code, 1)
      assert.match(sim.stderr, /insufficient funds/)
      // With a fixed gas limit it is broadcast, fails in the block with code 5, and only the fee is taken.
      const r = await beryld([
        'tx',
        'bank',
        'send',
        'val',
        addr,
        '999999beryl',
        '--gas',
        '100000',
        '--keyring-backend',
        'test',
        '--home',
        nodeHome(),
        '-o',
        'json',
      ])
      assert.equal(r.code, 1, r.stderr)
      assert.equal(JSON.parse(r.stdout).code, 5)
    })

    it('if CometBFT dies, beryld stops too and prints the reason', async () => {
      const pid = Number(/CometBFT started \(pid (\d+)\)/.exec(nodeOut)?.[1])
      assert.ok(pid > 0)
      process.kill(pid, 'SIGKILL')
      const code = await new Promise<number | null>((r) => node!.once('exit', (c) => r(c)))
      assert.equal(code, 1)
      assert.match(nodeOut, /CometBFT exited unexpectedly \(SIGKILL\)/)
    })

    it('a taken gateway port stops start with a clear message and nothing left running', async () => {
      const taken = (await import('node:net')).createServer()
      const port = await new Promise<number>((r) => taken.listen(0, '127.0.0.1', () => r((taken.address() as { port: number }).port)))
      const h = path.join(home, 'gw-taken')
      const p = await pickPorts(true)
      try {
        assert.equal(
          (
            await beryld([
              'init',
              'gw',
              '--home',
              h,
              '--rpc-port',
              String(p.rpc),
              '--p2p-port',
              String(p.p2p),
              '--abci-port',
              String(p.abci),
              '--gateway-port',
              String(port),
              '--listen-host',
              '127.0.0.1',
            ])
          ).code,
          0,
        )
        const r = await beryld(['start', '--home', h])
        assert.equal(r.code, 1)
        assert.match(
          r.stderr,
          new RegExp(`cannot start the gateway on /ip4/127\\.0\\.0\\.1/tcp/${port}: listen EADDRINUSE.*set it to "" to turn the gateway off`),
        )
      } finally {
        taken.close()
      }
    })

    it('status of a stopped node says it cannot reach it', async () => {
      const r = await beryld(['status', '--home', nodeHome()])
      assert.equal(r.code, 1)
      assert.match(r.stderr, /cannot reach a node at http:\/\/127\.0\.0\.1:\d+/)
    })
  })

  it('devnet prints endpoints and mnemonics, and stops cleanly on Ctrl-C', async function () {
    this.timeout(360_000)
    const dhome = path.join(home, 'devnet')
    const child = spawn(BERYLD, ['devnet', '--home', dhome, '--random-ports', '--accounts', '2'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout!.on('data', (d) => {
      out += d
    })
    child.stderr!.on('data', (d) => {
      out += d
    })
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)))
    try {
      // The devnet starts its validator and its workers (each loads the bundled models): on two cores shared with
      // another test file this takes more than a minute.
      await waitFor('the devnet banner', async () => (out.includes('Press Ctrl-C to stop') ? true : undefined), 240_000)
      assert.match(out, /CometBFT RPC {2}http:\/\/127\.0\.0\.1:\d+/)
      const m = /account1 {2}(beryl1\w+)\n {4}mnemonic: ([a-z ]+)\n/.exec(out)
      assert.ok(m, out)
      const w = await DirectSecp256k1HdWallet.fromMnemonic(m[2]!.trim(), { prefix: 'beryl' })
      assert.equal((await w.getAccounts())[0]!.address, m[1])
    } finally {
      child.kill('SIGINT')
    }
    const code = await exited
    assert.equal(code, 0, out)
    assert.match(out, /stopped by SIGINT/)
  })

  it('worker phash prints the goimagehash vector of each PNG, and a clear error for a non-PNG', async () => {
    const dir = path.join(ROOT, 'test', 'vectors', 'phash')
    const vectors = JSON.parse(fs.readFileSync(path.join(dir, 'vectors.json'), 'utf8'))
    const files = ['runner_00_0_256x256.png', '001_g1_64x64_hgrad.png']
    const r = await beryld(['worker', 'phash', ...files.map((f) => path.join(dir, 'images', f))])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trim().split('\n')
    files.forEach((f, i) => {
      const expected = vectors.vectors[f].hash
      assert.match(expected, /^[0-9a-f]{16}$/)
      assert.equal(lines[i], `${expected}  ${path.join(dir, 'images', f)}`)
    })
    const bad = await beryld(['worker', 'phash', path.join(dir, 'vectors.json')])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /error: .*vectors\.json/)
  })

  it('--help teaches every command', async () => {
    const { stdout: top } = await run(BERYLD, ['--help'])
    for (const c of ['init', 'start', 'status', 'keys', 'genesis', 'tx', 'query', 'task', 'worker', 'gateway', 'devnet'])
      assert.match(top, new RegExp(`\\n\\s+${c}\\b`))
    const { stdout: sub } = await run(BERYLD, ['task', 'run', 'image', '--help'])
    assert.match(sub, /Usage: beryld task run image/)
    // Every command in the tree, in process: a description, and one for each of its options and arguments.
    const { program } = await import('../../cli/main.ts')
    const missing: string[] = []
    let count = 0
    const walk = (c: typeof program, pathName: string) => {
      for (const s of c.commands) {
        const name = `${pathName} ${s.name()}`.trim()
        count++
        if (!s.description()) missing.push(`${name}: no description`)
        for (const o of s.options) if (!o.hidden && !o.description) missing.push(`${name} ${o.flags}: no description`)
        for (const a of s.registeredArguments) if (!a.description && s.registeredArguments.length > 1) missing.push(`${name} <${a.name()}>: no description`)
        assert.match(s.helpInformation(), new RegExp(`Usage: beryld ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
        walk(s, name)
      }
    }
    walk(program, '')
    assert.ok(count > 60, `${count} commands`)
    assert.deepEqual(missing, [])
  })
})
