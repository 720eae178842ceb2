import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { load } from 'js-yaml'
import { parse as parseToml } from 'smol-toml'
import { homePaths, readAppConfig } from '../../chain/node/config.ts'
import { gatewayAddress } from '../../gateway/key.ts'
import { program } from '../../cli/main.ts'
import { checkBeryldCommand } from '../helpers/cli-check.ts'
import { ROOT } from '../helpers/node.ts'

// Docker cannot run on the test machines: this checks docker-compose.yml against what it relies on —
// the CLI (every command and flag it and its ceremony script use exist) and the configs the
// ceremony's `beryld init` / `worker init` write (ports, addresses, homes inside the volumes).

interface Service {
  command?: string[]
  volumes?: string[]
  ports?: string[]
  healthcheck?: { test: string[] }
  networks?: Record<string, { ipv4_address: string }> | string[]
  depends_on?: Record<string, unknown>
  image?: string
}
const compose = load(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service & { '<<'?: Service }>
  volumes: Record<string, unknown>
}
// Resolve YAML merge keys (`<<: *beryl`) the way Docker Compose does.
const services: Record<string, Service> = Object.fromEntries(Object.entries(compose.services).map(([k, v]) => [k, { ...v['<<'], ...v, '<<': undefined }]))
const SCRIPT = fs.readFileSync(path.join(ROOT, 'scripts', 'docker-ceremony.sh'), 'utf8')

const validators = Object.keys(services)
  .filter((s) => /^validator-\d$/.test(s))
  .sort()
const workers = Object.keys(services)
  .filter((s) => /^worker-\d$/.test(s))
  .sort()
const beryldArgs = (cmd: string[] | undefined) => (cmd?.[0] === './bin/beryld' ? cmd.slice(1) : undefined)
const flag = (args: string[], name: string) => args[args.indexOf(name) + 1]
const ipOf = (s: Service) => (s.networks as Record<string, { ipv4_address: string }>).beryl!.ipv4_address
const mounts = (s: Service) =>
  (s.volumes ?? []).map((v) => {
    const [name, target] = v.split(':')
    return { name: name!, target: target! }
  })
const portOf = (laddr: string) => Number(/:(\d+)$/.exec(laddr)![1])

/** The `$BERYLD …` lines of the ceremony script with its variables replaced for one iteration. */
function scriptLines(): string[][] {
  const lines = SCRIPT.replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => !l.startsWith('#') && /\$BERYLD /.test(l))
  return lines.flatMap((l) =>
    [...l.matchAll(/\$BERYLD ([^)>;]*)/g)].map((m) => [...m[1]!.matchAll(/"[^"]*"|'[^']*'|\S+/g)].map((w) => w[0].replace(/^"|"$/g, ''))),
  )
}

describe('docker-compose.yml: 4 validators, 3 workers and a demo on one image', function () {
  this.timeout(120_000)

  it('has the ceremony, four validators, three workers and the demo, each on the same image with a named volume', () => {
    assert.deepEqual(validators, ['validator-0', 'validator-1', 'validator-2', 'validator-3'])
    assert.deepEqual(workers, ['worker-1', 'worker-2', 'worker-3'])
    assert.ok(services.ceremony && services.demo)
    for (const [name, s] of Object.entries(services)) {
      assert.equal(s.image, 'beryl:local', name)
      for (const m of mounts(s)) assert.ok(m.name in compose.volumes, `${name}: volume ${m.name} is not a named volume`)
    }
    assert.ok(fs.existsSync(path.join(ROOT, 'Dockerfile')))
  })

  it('validators run `beryld start`, workers `beryld worker start`, both with healthchecks on the same home', () => {
    for (const v of validators) {
      const args = beryldArgs(services[v]!.command)!
      assert.deepEqual(args.slice(0, 1), ['start'])
      assert.equal(flag(args, '--home'), `/data/${v}`)
      assert.deepEqual(beryldArgs(services[v]!.healthcheck!.test.slice(1)), ['status', '--home', `/data/${v}`])
    }
    for (const w of workers) {
      const args = beryldArgs(services[w]!.command)!
      assert.deepEqual(args.slice(0, 2), ['worker', 'start'])
      assert.equal(flag(args, '--home'), `/data/${w}`)
      assert.deepEqual(beryldArgs(services[w]!.healthcheck!.test.slice(1)), ['worker', 'status', '--home', `/data/${w}`])
    }
  })

  it('every beryld command and flag used by the services, healthchecks and the ceremony script exists in the CLI', () => {
    const problems: string[] = []
    for (const [name, s] of Object.entries(services)) {
      for (const cmd of [s.command, s.healthcheck?.test.slice(1)]) {
        const args = beryldArgs(cmd)
        if (args) for (const p of checkBeryldCommand(args)) problems.push(`${name}: ${args.join(' ')}: ${p}`)
      }
    }
    const lines = scriptLines()
    assert.ok(lines.length >= 12, `only ${lines.length} beryld lines found in the ceremony script`)
    for (const words of lines)
      for (const p of checkBeryldCommand(words.map((w) => (w.startsWith('$') ? 'X' : w)))) problems.push(`docker-ceremony.sh: ${words.join(' ')}: ${p}`)
    assert.deepEqual(problems, [])
  })

  it("each service's home is inside its own volume, and the ceremony mounts every volume at the same place", () => {
    const ceremony = new Map(mounts(services.ceremony!).map((m) => [m.name, m.target]))
    for (const name of [...validators, ...workers]) {
      const home = flag(beryldArgs(services[name]!.command)!, '--home')!
      const own = mounts(services[name]!)
      assert.deepEqual(own, [{ name, target: home }])
      assert.equal(ceremony.get(name), home, `the ceremony writes ${name}'s home where the service reads it`)
    }
    const demo = beryldArgs(services.demo!.command)!
    assert.ok(
      mounts(services.demo!).some((m) => m.target === flag(demo, '--home')),
      'the demo reads the home it names',
    )
  })

  it("the ports, addresses and peers the ceremony's init commands write are the ones the services publish and dial", async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-compose-'))
    const print = console.log
    console.log = () => {} // the commands' own output (keys, next steps)
    try {
      const initLine = scriptLines().find((w) => w[0] === 'init')!
      const gateways: string[] = []
      for (const v of validators) {
        const i = Number(v.slice(-1))
        const ip = ipOf(services[v]!)
        // The script's own `init` line, with this validator's values, run through the real CLI.
        const args = initLine.map((w) =>
          w.replace('$ipaddr', ip).replace('$home', path.join(data, v)).replace('validator-$i', v).replace('$CHAIN_ID', 'beryl-docker-1'),
        )
        assert.equal(args[args.indexOf('--listen-host') + 1], ip, 'the ceremony listens on the compose address of validator-' + i)
        await program.parseAsync(['node', 'beryld', ...args])
        const home = path.join(data, v)
        const comet = parseToml(fs.readFileSync(homePaths(home).configToml, 'utf8')) as { p2p: { laddr: string }; rpc: { laddr: string } }
        const app = readAppConfig(home)
        const published = services[v]!.ports!.map((p) => Number(p.split(':')[1]))
        const p2p = portOf(comet.p2p.laddr),
          rpc = portOf(comet.rpc.laddr),
          gw = Number(/\/tcp\/(\d+)/.exec(app.gateway.address)![1])
        assert.deepEqual(published.sort(), [p2p, rpc, gw].sort(), `${v} publishes the ports it listens on`)
        assert.equal(comet.rpc.laddr, `tcp://0.0.0.0:${rpc}`, "RPC reachable from the workers' containers")
        assert.equal(app.cometbft.rpc, `http://127.0.0.1:${rpc}`, 'the healthcheck (`status --home`) reaches its own RPC')
        assert.equal(app.gateway['attester-key'], 'validator', "the gateway attests with the validator's operator key")
        assert.equal(comet.p2p.laddr, `tcp://${ip}:${p2p}`)
        const host = services[v]!.ports!.map((p) => p.split(':').map(Number))
        assert.ok(
          host.every(([h, c]) => h === c! + 10 * i),
          `${v} is published on the standard ports + 10·${i}`,
        )
        gateways.push((await gatewayAddress(home))!)
      }
      assert.ok(gateways.every((g, i) => g.startsWith(`/ip4/${ipOf(services[validators[i]!]!)}/tcp/4001/p2p/`)))
      // Workers: their RPC is a validator's compose address and RPC port, and they dial every gateway.
      const workerLine = scriptLines().find((w) => w[0] === 'worker' && w[1] === 'init')!
      for (const w of workers) {
        const n = Number(w.slice(-1))
        const v = (n - 1) % validators.length
        const home = path.join(data, w)
        // The script's `node=` line says which validator's RPC worker w uses: http://<ip of validator (w-1) mod 4>:26657.
        assert.match(SCRIPT, /node="http:\/\/\$\(ip \$\(\(\(w - 1\) % VALIDATORS\)\)\):26657"/)
        const node = `http://${ipOf(services[validators[v]!]!)}:26657`
        const args = workerLine.flatMap((x) =>
          x === '$gateways' ? gateways : [x.replace('$DATA/worker-$w', home).replace('$CHAIN_ID', 'beryl-docker-1').replace('$node', node)],
        )
        await program.parseAsync(['node', 'beryld', ...args])
        const cfg = parseToml(fs.readFileSync(path.join(home, 'config', 'worker.toml'), 'utf8')) as { node_rpc: string; gateways: string[] }
        assert.equal(cfg.node_rpc, `http://${ipOf(services[validators[v]!]!)}:26657`)
        assert.deepEqual(cfg.gateways, gateways)
        assert.ok(Object.keys(services[w]!.depends_on ?? {}).includes(validators[v]!), `${w} waits for the validator it talks to`)
      }
    } finally {
      console.log = print
      fs.rmSync(data, { recursive: true, force: true })
    }
  })
})
