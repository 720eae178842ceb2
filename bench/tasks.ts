// Verified tasks end to end on a one-validator devnet with N in-process workers whose runner
// returns a precomputed PNG (so this measures the protocol, not the model): tasks settled per
// second, transactions per task (ours, counted from what happened and from the blocks; Crynux's
// flow from ../shared/reference/crynux.md), and blocks from create to output delivered.
// Anchors measured in the same run: the chain's block interval during the run, and one bank-send
// round trip through cosmjs (the client BerylClient uses, same defaults) before the run.
// With --validators N (2..7) the chain is N validators from a gentx ceremony, each a `beryld start` process
// with its gateway: workers spread over the gateways, creators over the RPCs, and a task settles once
// validators holding 2/3 of the bonded power attested it (docs/decisions/0023); the figures add the
// blocks from the first attestation (the upload is stored in the block before) to settlement.
// Usage: npm run bench:tasks [-- --tasks 60 --concurrency 20 --workers 50 --min-sampling-rate 0.1 --validators 4]
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { GasPrice, SigningStargateClient } from '@cosmjs/stargate'
import { TxBody, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import { homePaths, readAppConfig } from '../chain/node/config.ts'
import { isInjected } from '../chain/voteext.ts'
import { cometPids } from '../chain/node/cometbft.ts'
import { createDevnetHome, createDevnetWorkers, pickPorts, startDevnetWorkers, waitForHeight, workerHome } from '../cli/devnet.ts'
import { NodeProcess, createValidatorNetwork } from '../cli/network.ts'
import { Keyring } from '../cli/keyring.ts'
import { MsgAttestResult, MsgCreateTask, MsgRevealResult, MsgSubmitScore, MsgValidateTask } from '../proto/gen/beryl/task/v1/tx.ts'
import { TaskStatus } from '../proto/gen/beryl/task/v1/types.ts'
import { BerylClient } from '../sdk/client.ts'
import type { WorkerDaemon } from '../worker/daemon/daemon.ts'
import { ensureBundledModels } from '../worker/models/store.ts'
import { releaseSessions, runImageTask } from '../worker/runners/index.ts'

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '20' },
    workers: { type: 'string', default: '50' },
    // The vss module's min_sampling_rate (a fraction); default: the chain's own default.
    'min-sampling-rate': { type: 'string' },
    // Validators: 1 runs the one-validator devnet; 2..7 a gentx ceremony of separate `beryld start` processes.
    validators: { type: 'string', default: '1' },
  },
})
const TASKS = Number(values.tasks),
  CONCURRENCY = Number(values.concurrency),
  WORKERS = Number(values.workers),
  VALIDATORS = Number(values.validators)
if (!(TASKS > 0 && CONCURRENCY > 0 && WORKERS >= 3)) throw new Error('--tasks and --concurrency must be > 0, --workers >= 3')
if (!(Number.isInteger(VALIDATORS) && VALIDATORS >= 1 && VALIDATORS <= 7)) throw new Error('--validators must be 1..7')
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BERYLD = path.join(ROOT, 'bin', 'beryld')
const CHAIN_ID = 'beryl-bench-tasks'
const ANCHOR_SENDS = 4

const log = (m: string) => process.stderr.write(m + '\n')
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!
}
const median = (xs: number[]) => pct(xs, 0.5)
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN)
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–')
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–')
const round = (x: number, d = 3) => (Number.isFinite(x) ? Number(x.toFixed(d)) : null)

// ---- CometBFT RPC ------------------------------------------------------------------------------

async function rpcGet(rpc: string, route: string): Promise<any> {
  const res = await fetch(`${rpc}/${route}`, { signal: AbortSignal.timeout(15_000) })
  const j = (await res.json()) as { result?: unknown; error?: unknown }
  if (!j.result) throw new Error(`${route}: ${JSON.stringify(j.error)}`)
  return j.result
}
const chainHeight = async (rpc: string) => Number((await rpcGet(rpc, 'status')).sync_info.latest_block_height)
const blockTime = async (rpc: string, h: number) => Date.parse((await rpcGet(rpc, `block?height=${h}`)).block.header.time)

type Step = 'create' | 'score' | 'validate' | 'reveal' | 'attest' | 'settle'
/**
 * Every tx in blocks (from, to]: counted by message type, how many failed in their block, and the
 * height at which each task commitment's create, score (or error report), validation and
 * attestation were included, and the block whose attestation settled it (successful txs only).
 */
async function txsInBlocks(
  rpc: string,
  from: number,
  to: number,
): Promise<{
  byType: Record<string, number>
  failed: number
  failedByType: Record<string, { count: number; log: string }>
  total: number
  at: Map<string, Partial<Record<Step, number>>>
}> {
  const byType: Record<string, number> = {}
  const failedByType: Record<string, { count: number; log: string }> = {}
  const at = new Map<string, Partial<Record<Step, number>>>()
  const mark = (c: Uint8Array, step: Step, h: number) => {
    const k = Buffer.from(c).toString('hex')
    const e = at.get(k) ?? {}
    e[step] ??= h
    at.set(k, e)
  }
  let failed = 0,
    total = 0
  for (let h = from + 1; h <= to; h++) {
    const txs: string[] = (await rpcGet(rpc, `block?height=${h}`)).block.data.txs ?? []
    if (!txs.length) continue
    const results: Array<{ code: number; log?: string; events?: Array<{ type: string; attributes: Array<{ key: string; value: string }> }> }> =
      (await rpcGet(rpc, `block_results?height=${h}`)).txs_results ?? []
    txs.forEach((b64, i) => {
      const raw = Buffer.from(b64, 'base64')
      // The proposer's vote extensions (docs/decisions/0022): not a transaction of anyone's.
      if (isInjected(raw)) return
      total++
      const body = TxBody.decode(TxRaw.decode(raw).bodyBytes)
      const type = body.messages.map((m) => m.typeUrl.split('.').pop()).join('+')
      byType[type] = (byType[type] ?? 0) + 1
      if (results[i]?.code) {
        failed++
        const f = (failedByType[type] ??= { count: 0, log: `code ${results[i]!.code}: ${results[i]!.log ?? ''}`.slice(0, 200) })
        f.count++
        return
      }
      for (const m of body.messages) {
        if (m.typeUrl === '/beryl.task.v1.MsgCreateTask') mark(MsgCreateTask.decode(m.value).taskIdCommitment, 'create', h)
        if (m.typeUrl === '/beryl.task.v1.MsgSubmitScore') mark(MsgSubmitScore.decode(m.value).taskIdCommitment, 'score', h)
        if (m.typeUrl === '/beryl.task.v1.MsgRevealResult') mark(MsgRevealResult.decode(m.value).taskIdCommitment, 'reveal', h)
        if (m.typeUrl === '/beryl.task.v1.MsgValidateTask') for (const c of MsgValidateTask.decode(m.value).taskIdCommitments) mark(c, 'validate', h)
        if (m.typeUrl === '/beryl.task.v1.MsgAttestResult') mark(MsgAttestResult.decode(m.value).taskIdCommitment, 'attest', h)
      }
      for (const e of results[i]?.events ?? []) {
        const task = e.type === 'result_settled' && e.attributes.find((a) => a.key === 'task')?.value
        if (task) mark(Buffer.from(task, 'hex'), 'settle', h)
      }
    })
  }
  return { byType, failed, failedByType, total, at }
}

// ---- process CPU (to tell whether the 50 in-process workers are the bottleneck) ----------------

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100
function procCpuSeconds(pid: number): number {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) / CLK_TCK // utime + stime
  } catch {
    return NaN
  }
}
const benchCpuSeconds = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

// ---- the run ------------------------------------------------------------------------------------

interface TaskRecord {
  i: number
  ok: boolean
  error?: string
  sampled?: boolean
  members?: number
  /** Score commitments (one per member that answered). */
  scores?: number
  /** MsgRevealResult: one per member of a sampled group (a single task's reveal rides on its attestation). */
  reveals?: number
  attested?: boolean
  /** Validators' attestations recorded on the delivered task when the client read it (one per validator that attested by then). */
  attestations?: number
  created?: number
  delivered?: number
  /** The task's commitments (delivered member first). */
  commitments?: string[]
  /** Height at which the client saw the attestation (then it downloads the output). */
  sawAttested?: number
  /** Heights of the blocks that included the flow's txs: first create, last score, validation, attestation. */
  chain?: Partial<Record<Step, number>>
  ms?: number
  samplingRate?: number
}

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-bench-tasks-'))
let node: ChildProcess | undefined
/** With --validators > 1: the validators' `beryld start` processes and their homes. */
const procs: NodeProcess[] = []
let nodeOut = ''
const workers: WorkerDaemon[] = []
const clients: BerylClient[] = []
const abort = new AbortController()
let cleaning: Promise<void> | undefined

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    abort.abort()
    for (const c of clients) {
      try {
        c.disconnect()
      } catch {
        /* closed */
      }
    }
    await Promise.allSettled(workers.map((w) => Promise.race([w.stop(), sleep(15_000)])))
    await Promise.allSettled(procs.map((p) => p.stop().catch(() => p.kill())))
    const p = node
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise<void>((r) => p.once('exit', () => r()))
      p.kill('SIGTERM')
      await Promise.race([exited, sleep(20_000)])
      if (p.exitCode === null && p.signalCode === null) {
        p.kill('SIGKILL')
        await exited
      }
    }
    // CometBFT exits by itself once its app is gone; reap it if it does not.
    for (let i = 0; i < 150 && cometPids(home).length; i++) await sleep(100)
    for (const pid of cometPids(home)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        /* gone */
      }
    }
    fs.rmSync(home, { recursive: true, force: true })
  })()
  return cleaning
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping…`)
    void cleanup().finally(() => process.exit(130))
  })
}

async function main(): Promise<void> {
  const samplingRate = values['min-sampling-rate'] === undefined ? undefined : Number(values['min-sampling-rate'])
  if (samplingRate !== undefined && !(samplingRate >= 0 && samplingRate <= 1)) throw new Error('--min-sampling-rate must be in [0, 1]')
  const withRate = (appState: any) => {
    if (samplingRate === undefined) return
    appState.vss = { params: { ...appState.vss?.params, min_sampling_rate: (BigInt(Math.round(samplingRate * 1e6)) * 10n ** 12n).toString() } }
  }
  // 1. The devnet home: CONCURRENCY creators, one spare account for the anchor, WORKERS funded workers. With
  // several validators, the coordinator's home (validator 0) holds the accounts' keyring and the workers.
  log(`devnet: creating ${VALIDATORS === 1 ? 'a home' : `${VALIDATORS} validators' homes`} in ${home} with ${CONCURRENCY + 1} accounts and ${WORKERS} workers…`)
  let coord = home
  let accounts: Array<{ name: string; address: string }>
  let rpcs: string[], gateways: string[]
  let nodeExited: Promise<string>
  /** The `beryld start` processes' pids, and the homes whose CometBFT children count in the CPU figures. */
  let beryldPids: () => number[]
  let cometHomes: string[]
  if (VALIDATORS === 1) {
    accounts = await createDevnetHome(home, { accounts: CONCURRENCY + 1, chainId: CHAIN_ID, ports: await pickPorts(true) })
    await createDevnetWorkers(home, WORKERS)
    if (samplingRate !== undefined) {
      const file = homePaths(home).genesis
      const g = JSON.parse(fs.readFileSync(file, 'utf8'))
      withRate(g.app_state)
      fs.writeFileSync(file, JSON.stringify(g, null, 2) + '\n')
    }
    rpcs = [readAppConfig(home).cometbft.rpc]

    // 2. The node: a real `beryld start` (ABCI app, CometBFT child, gateway with the attester).
    log('devnet: starting beryld…')
    node = spawn(BERYLD, ['start', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'] })
    // BENCH_NODE_LOG=<file> keeps the node's whole output (the home is deleted at the end).
    const nodeLog = process.env.BENCH_NODE_LOG ? fs.createWriteStream(process.env.BENCH_NODE_LOG) : undefined
    const keep = (d: Buffer) => {
      nodeOut = (nodeOut + d.toString()).slice(-32_768)
      nodeLog?.write(d)
    }
    node.stdout!.on('data', keep)
    node.stderr!.on('data', keep)
    nodeExited = new Promise<string>((resolve) => node!.once('exit', (c, s) => resolve(`beryld exited (${s ?? c})`)))
    await waitForHeight(rpcs[0]!, 1n, nodeExited)
    gateways = [
      await new Promise<string>((resolve, reject) =>
        execFile(BERYLD, ['gateway', 'address', '--home', home, '--output', 'json'], (err, stdout) => {
          if (err) reject(err)
          else resolve((JSON.parse(stdout) as { address: string }).address)
        }),
      ),
    ]
    beryldPids = () => [node!.pid!]
    cometHomes = [home]
  } else {
    // 2. The network: a gentx ceremony, then each validator's `beryld start` (logs in <home>/logs/beryld.log).
    const root = path.join(home, 'net')
    const net = await createValidatorNetwork(root, {
      validators: VALIDATORS,
      accounts: CONCURRENCY + 1,
      chainId: CHAIN_ID,
      randomPorts: true,
      timeoutCommit: '500ms',
      beforeCeremony: (h) => createDevnetWorkers(h, WORKERS).then(() => undefined),
      genesis: withRate,
    })
    coord = net.validators[0]!.home
    accounts = net.accounts
    rpcs = net.validators.map((v) => v.rpc)
    gateways = net.validators.map((v) => v.gateway)
    log(`devnet: starting ${VALIDATORS} validators…`)
    for (const v of net.validators) procs.push(new NodeProcess(v.home))
    for (const p of procs) p.start()
    nodeExited = Promise.race(procs.map((p, i) => p.exited().then((why) => `validator ${i} ${why}`)))
    await Promise.all(rpcs.map((r) => waitForHeight(r, 1n, nodeExited)))
    beryldPids = () => procs.map((p) => p.child?.pid ?? 0).filter(Boolean)
    cometHomes = net.validators.map((v) => v.home)
  }
  void nodeExited.then((why) => {
    if (!cleaning) {
      log(`${why}:\n${nodeOut}`)
      abort.abort()
    }
  })
  const rpc = rpcs[0]!
  const gateway = gateways[0]!
  log(`devnet: height 1; gateway${gateways.length > 1 ? 's' : ''} ${gateways.join(', ')}`)
  const cpuNow = () => ({
    bench: benchCpuSeconds(),
    beryld: beryldPids().reduce((a, p) => a + procCpuSeconds(p), 0),
    comet: cometHomes.reduce((a, h) => a + cometPids(h).reduce((b, p) => b + procCpuSeconds(p), 0), 0),
  })

  // 3. One real output, rendered once with the bundled model; every worker returns it.
  const modelDir = path.join(coord, 'models')
  await ensureBundledModels(modelDir)
  let t = performance.now()
  const png = (await runImageTask({ prompt: 'a lighthouse on a cliff at dusk', width: 64, height: 64, steps: 2, seed: 1 }, modelDir)).images[0]!
  const renderMs = performance.now() - t
  releaseSessions()
  const runner = async () => [png]

  // 4. The workers, in this process (each joins with a tx, then opens a gateway session).
  log(`workers: starting ${WORKERS} daemons (each joins the network with a tx)…`)
  t = performance.now()
  workers.push(...(await startDevnetWorkers(coord, { chainId: CHAIN_ID, rpc, rpcs, gateway, gateways, log: () => {}, runner })))
  const deadline = Date.now() + 120_000
  for (;;) {
    const open = workers.filter((_, k) => {
      try {
        return !!JSON.parse(fs.readFileSync(path.join(workerHome(coord, k + 1), 'data', 'worker-status.json'), 'utf8')).gateway
      } catch {
        return false
      }
    }).length
    if (open === WORKERS) break
    if (Date.now() > deadline) throw new Error(`only ${open} of ${WORKERS} workers opened a gateway session`)
    await sleep(250)
  }
  const workersUpS = (performance.now() - t) / 1000
  log(`workers: ${WORKERS} joined, sessions open (${workersUpS.toFixed(1)} s)`)

  // 5. Anchor: bank-send round trips through cosmjs with its defaults (BerylClient's creator txs
  // go through the same SigningStargateClient.signAndBroadcast), on the idle chain.
  const spare = accounts[CONCURRENCY]!
  const anchorClient = await SigningStargateClient.connectWithSigner(rpc, await new Keyring(coord, 'test').wallet(spare.name), {
    gasPrice: GasPrice.fromString('0.025uberyl'),
  })
  // The same send, but polled for inclusion every 100 ms: how far the chain itself is from the client.
  const bankSend = {
    typeUrl: '/cosmos.bank.v1beta1.MsgSend',
    value: { fromAddress: spare.address, toAddress: accounts[0]!.address, amount: [{ denom: 'uberyl', amount: '1' }] },
  }
  const sendMs: number[] = [],
    sendBlocks: number[] = [],
    fastMs: number[] = [],
    fastBlocks: number[] = []
  for (let k = 0; k < ANCHOR_SENDS; k++) {
    let h = await chainHeight(rpc)
    let t0 = performance.now()
    const r = await anchorClient.signAndBroadcast(spare.address, [bankSend], 'auto')
    if (r.code !== 0) throw new Error(`anchor bank send failed: ${r.rawLog}`)
    sendMs.push(performance.now() - t0)
    sendBlocks.push((await anchorClient.getHeight()) - h)
    h = await chainHeight(rpc)
    t0 = performance.now()
    const signed = await anchorClient.sign(spare.address, [bankSend], { amount: [{ denom: 'uberyl', amount: '2000' }], gas: '80000' }, '')
    const r2 = await anchorClient.broadcastTx(TxRaw.encode(signed).finish(), 60_000, 100)
    if (r2.code !== 0) throw new Error(`anchor bank send failed: ${r2.rawLog}`)
    fastMs.push(performance.now() - t0)
    fastBlocks.push(r2.height - h)
  }
  anchorClient.disconnect()
  log(
    `anchor: bank send round trip ${median(sendMs).toFixed(0)} ms / ${median(sendBlocks)} blocks (cosmjs defaults), ${median(fastMs).toFixed(0)} ms / ${median(fastBlocks)} blocks (100 ms polling)`,
  )

  // 6. The tasks: CONCURRENCY creators, each running tasks one after another.
  for (let k = 0; k < CONCURRENCY; k++) {
    const wallet = await new Keyring(coord, 'test').wallet(accounts[k]!.name)
    // Creators spread over the validators' RPCs; each asks its own validator's gateway first, then the others.
    const j = k % rpcs.length
    clients.push(
      await BerylClient.connect(rpcs[j]!, wallet, { gateways: [...gateways.slice(j), ...gateways.slice(0, j)], keyStoreDir: path.join(home, 'sdk-tasks') }),
    )
  }
  const records: TaskRecord[] = []
  let next = 0
  const h0 = await chainHeight(rpc)
  const cpu0 = cpuNow()
  log(`tasks: running ${TASKS} image tasks, ${CONCURRENCY} creators at a time, from height ${h0}…`)
  const tStart = performance.now()
  let tLastDelivery = tStart
  await Promise.all(
    clients.map(async (client) => {
      while (next < TASKS && !abort.signal.aborted) {
        const i = next++
        const rec: TaskRecord = { i, ok: false }
        records.push(rec)
        const t0 = performance.now()
        try {
          const r = await client.runTask({
            type: 'image',
            args: { prompt: `bench task ${i}`, width: 64, height: 64, steps: 1, seed: i },
            signal: abort.signal,
            timeoutMs: 300_000,
            onProgress: (p) => {
              if (p.stage === 'attested') rec.sawAttested = p.height
            },
          })
          tLastDelivery = performance.now()
          Object.assign(rec, {
            ok: true,
            ms: tLastDelivery - t0,
            sampled: r.sampled,
            members: r.group.length,
            scores: r.group.filter((m) => m.scoreCommitment.length > 0).length,
            reveals: r.sampled ? r.group.filter((m) => m.salt.length > 0).length : 0,
            attested: r.task.status === TaskStatus.TASK_STATUS_END_SUCCESS || r.task.status === TaskStatus.TASK_STATUS_END_GROUP_SUCCESS,
            attestations: r.task.attestations.length,
            created: r.heights.created,
            delivered: r.heights.delivered,
            commitments: r.commitments,
            // The first task's rate (a delivered validation seat has none of its own).
            samplingRate: Number((BigInt(r.group[0]!.samplingRate) * 1_000_000n) / 10n ** 18n) / 1e6,
          })
          if ((i + 1) % 10 === 0 || i === TASKS - 1) log(`  ${records.filter((x) => x.ok).length} delivered…`)
        } catch (err) {
          rec.error = `${(err as Error).name}: ${(err as Error).message}`
          log(`  task ${i} failed: ${rec.error}`)
        }
      }
    }),
  )
  const wallS = (tLastDelivery - tStart) / 1000
  const h1 = await chainHeight(rpc)
  const cpu1 = cpuNow()
  const runS = (performance.now() - tStart) / 1000

  // 7. What the blocks of the run hold (h0, h1]: every tx, by message type.
  log(`tasks: done; reading blocks ${h0 + 1}..${h1}…`)
  const onChain = await txsInBlocks(rpc, h0, h1)
  const blockIntervalS = ((await blockTime(rpc, h1)) - (await blockTime(rpc, h0))) / 1000 / Math.max(1, h1 - h0)

  // ---- figures ----------------------------------------------------------------------------------
  const ok = records.filter((r) => r.ok)
  const failed = records.filter((r) => !r.ok)
  const sampled = ok.filter((r) => r.sampled)
  const blocks = ok.map((r) => r.delivered! - r.created!)
  // The same span from the block that included the task's first MsgCreateTask (TaskResult.heights
  // .created is read after cosmjs's signAndBroadcast returns, which polls for inclusion every 3 s).
  for (const r of ok) {
    const ms = r.commitments!.map((c) => onChain.at.get(c) ?? {})
    const first = (k: Step) => {
      const v = ms.map((m) => m[k]).filter((x) => x !== undefined) as number[]
      return v.length ? Math.min(...v) : undefined
    }
    const last = (k: Step) => {
      const v = ms.map((m) => m[k])
      return v.every((x) => x !== undefined) ? Math.max(...(v as number[])) : undefined
    }
    r.chain = { create: first('create'), score: last('score'), validate: first('validate'), attest: ms[0]!.attest, settle: ms[0]!.settle }
  }
  const seen = ok.filter((r) => r.chain!.create !== undefined)
  const fromTx = seen.map((r) => r.delivered! - r.chain!.create!)
  const q50 = pct(fromTx, 0.5),
    q95 = pct(fromTx, 0.95),
    qmax = Math.max(...fromTx)
  const span = (a: Step, b: Step | 'delivered') =>
    median(
      seen
        .filter((r) => r.chain![a] !== undefined && (b === 'delivered' || r.chain![b] !== undefined))
        .map((r) => (b === 'delivered' ? r.delivered! : r.chain![b]!) - r.chain![a]!),
    )
  // Upload → settlement: the gateway that stored the upload attests it in the next block (the first attestation),
  // and the task settles in the block whose attestation brought the attested power to 2/3.
  const spans = (a: Step, b: Step) => seen.filter((r) => r.chain![a] !== undefined && r.chain![b] !== undefined).map((r) => r.chain![b]! - r.chain![a]!)
  const attestToSettle = spans('attest', 'settle'),
    validateToSettle = spans('validate', 'settle')
  const stagesOf = (r: TaskRecord) =>
    `create ${r.chain!.create}, last score ${r.chain!.score}, validate ${r.chain!.validate}, attest ${r.chain!.attest}, seen by the client ${r.sawAttested}, delivered ${r.delivered}`
  const slowest = seen.reduce((a, r) => (r.delivered! - r.chain!.create! > a.delivered! - a.chain!.create! ? r : a), seen[0]!)
  const p50 = pct(blocks, 0.5),
    p95 = pct(blocks, 0.95),
    max = Math.max(...blocks)
  // Ours, from what happened: the creator creates (1; the chain creates a group's seats) and validates (1);
  // each member's node commits (1) and, in a group, reveals (1); each attesting validator's MsgAttestResult
  // (1 per validator that had attested when the client read the task), which carries a single task's reveal.
  const flow = {
    create: ok.length,
    validate: ok.length,
    score: ok.reduce((a, r) => a + r.scores!, 0),
    reveal: ok.reduce((a, r) => a + r.reveals!, 0),
    attest: ok.reduce((a, r) => a + (r.attested ? r.attestations! : 0), 0),
  }
  const flowTotal = flow.create + flow.validate + flow.score + flow.reveal + flow.attest
  const perTask = (rs: TaskRecord[]) =>
    rs.length ? rs.reduce((a, r) => a + 2 + r.scores! + r.reveals! + (r.attested ? r.attestations! : 0), 0) / rs.length : NaN
  const oursPerTask = flowTotal / ok.length
  const taskTypes = ['MsgCreateTask', 'MsgValidateTask', 'MsgSubmitScore', 'MsgRevealResult', 'MsgAttestResult']
  const onChainTask = taskTypes.reduce((a, k) => a + (onChain.byType[k] ?? 0), 0)
  const sampledShare = ok.length ? sampled.length / ok.length : NaN
  // Crynux, VSS on chain (crynux.md §1.2 transitions table; §3.3 flow; §3.2 rate): unsampled =
  // createTask + validateSingleTask (creator) + submitTaskScore (node) + reportTaskParametersUploaded
  // + reportTaskResultUploaded (relay) = 5; sampled = 3 createTask + validateTaskGroup (creator) +
  // 3 submitTaskScore (node) + 3 reportTaskParametersUploaded + 1 reportTaskResultUploaded (relay;
  // only Validated/GroupValidated → End*Success) = 11. Their contract/SDK sample 10% (mod 10).
  // Relay era (§0 era 4, §7.1 "Gas"): no task tx on chain; signed relay API calls (§1.3, §3.3):
  // create + score + validate + results upload = 4; sampled 3 + 3 + 1 + 3 (GroupRefund members
  // upload too, §3.3 step 5) = 10; sampled at 1% (§3.2).
  const crynuxVss = (s: number) => 5 + 6 * s
  const crynuxRelayCalls = (s: number) => 4 + 6 * s
  const cpuBench = (cpu1.bench - cpu0.bench) / runS,
    cpuBeryld = (cpu1.beryld - cpu0.beryld) / runS,
    cpuComet = (cpu1.comet - cpu0.comet) / runS
  const sr = [...new Set(ok.map((r) => r.samplingRate))].sort()

  console.log(`
verified image tasks, ${WORKERS} in-process workers (precomputed ${png.length}-byte PNG; rendering it once took ${renderMs.toFixed(0)} ms), ${CONCURRENCY} creators, ${VALIDATORS} validator${VALIDATORS > 1 ? 's' : ''}, ${os.cpus().length} cores
  delivered            ${ok.length} of ${TASKS}${failed.length ? ` (${failed.length} failed: ${[...new Set(failed.map((r) => r.error!.split(':')[0]))].join(', ')})` : ''}
  wall                 ${wallS.toFixed(1)} s from the first create to the last delivery (${h1 - h0} blocks)
  settled              ${f2(ok.length / wallS)} tasks/s
  sampled              ${sampled.length} of ${ok.length} (${f1(100 * sampledShare)} %; chain sampling rate ${sr.map((x) => `${f2(100 * x!)} %`).join(', ')})
  blocks, create → delivered   p50 ${p50}  p95 ${p95}  max ${max}   (mean ${f1(mean(blocks))}; ${f1(median(ok.map((r) => r.ms! / 1000)))} s p50 per task)
    from the create tx's block  p50 ${q50}  p95 ${q95}  max ${qmax}   (TaskResult.heights.created lags that block by p50 ${median(seen.map((r) => r.created! - r.chain!.create!))})
    by step (p50, tx blocks)  create→last score ${span('create', 'score')}, →validate ${span('score', 'validate')}, →attest ${span('validate', 'attest')}, →delivered ${span('attest', 'delivered')}
    upload → settled   first attestation → settlement p50 ${pct(attestToSettle, 0.5)} p95 ${pct(attestToSettle, 0.95)} max ${Math.max(...attestToSettle)} blocks; validation → settlement p50 ${pct(validateToSettle, 0.5)} p95 ${pct(validateToSettle, 0.95)} (${attestToSettle.length} tasks)
    slowest            task ${slowest?.i}${slowest?.sampled ? ' (sampled)' : ''}: ${slowest ? stagesOf(slowest) : ''}
    unsampled / sampled p50  ${median(ok.filter((r) => !r.sampled).map((r) => r.delivered! - r.created!))} / ${median(sampled.map((r) => r.delivered! - r.created!))}, p95 ${pct(
      ok.filter((r) => !r.sampled).map((r) => r.delivered! - r.created!),
      0.95,
    )} / ${pct(
      sampled.map((r) => r.delivered! - r.created!),
      0.95,
    )}
  txs per task, ours   ${f2(oursPerTask)}  (unsampled ${f2(perTask(ok.filter((r) => !r.sampled)))}, sampled ${f2(perTask(sampled))})
    from the flow      create ${flow.create}, validate ${flow.validate} (creator); score commitment ${flow.score}, reveal ${flow.reveal} (nodes); attest ${flow.attest} (validators) = ${flowTotal}
    in the blocks      ${Object.entries(onChain.byType)
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; ${onChain.total} txs, ${onChain.failed} failed${Object.entries(onChain.failedByType)
      .map(([k, v]) => ` (${k} ${v.count}, e.g. ${v.log})`)
      .join('')}; task txs ${onChainTask} = ${f2(onChainTask / ok.length)} per delivered task
  txs per task, Crynux VSS on chain (crynux.md §1.2, §3.2–3.3): 5 unsampled, 11 sampled
                       → ${f2(crynuxVss(sampledShare))} at this run's sampled share, ${f2(crynuxVss(0.1))} at their contract's 10 %
  txs per task, Crynux relay era (§0 era 4, §7.1): 0 on chain; signed relay calls 4 unsampled, 10 sampled → ${f2(crynuxRelayCalls(0.01))} at their 1 %
  anchor               block interval during the run ${(blockIntervalS * 1000).toFixed(0)} ms (${f2(1 / blockIntervalS)} blocks/s; p50 task = ${f1(p50 * blockIntervalS)} s of blocks)
                       bank send round trip via cosmjs defaults (3 s polling): ${median(sendMs).toFixed(0)} ms, ${median(sendBlocks)} blocks; polled every 100 ms: ${median(fastMs).toFixed(0)} ms, ${median(fastBlocks)} blocks (idle chain, medians of ${ANCHOR_SENDS})
                       → p50 task = ${f1(p50 / median(sendBlocks))} default bank-send round trips
  cpu during the run   bench process (${WORKERS} workers + ${CONCURRENCY} clients) ${f2(cpuBench)} cores, beryld ${f2(cpuBeryld)}, cometbft ${f2(cpuComet)}; workers up in ${workersUpS.toFixed(1)} s
`)
  console.log(
    JSON.stringify({
      bench: 'tasks',
      workers: WORKERS,
      validators: VALIDATORS,
      concurrency: CONCURRENCY,
      tasks: TASKS,
      delivered: ok.length,
      failed: failed.length,
      wall_s: round(wallS, 2),
      blocks_run: h1 - h0,
      tasks_per_s: round(ok.length / wallS),
      sampled: sampled.length,
      sampled_share: round(sampledShare),
      sampling_rates: sr,
      blocks_create_to_delivered: { p50, p95, max, mean: round(mean(blocks), 2) },
      blocks_create_tx_to_delivered: { p50: q50, p95: q95, max: qmax, mean: round(mean(fromTx), 2) },
      blocks_by_step_p50: {
        create_to_last_score: span('create', 'score'),
        score_to_validate: span('score', 'validate'),
        validate_to_attest: span('validate', 'attest'),
        attest_to_delivered: span('attest', 'delivered'),
      },
      blocks_first_attestation_to_settled: { p50: pct(attestToSettle, 0.5), p95: pct(attestToSettle, 0.95), max: Math.max(...attestToSettle) },
      blocks_validate_to_settled: { p50: pct(validateToSettle, 0.5), p95: pct(validateToSettle, 0.95) },
      txs_per_task: {
        ours: round(oursPerTask),
        ours_unsampled: round(perTask(ok.filter((r) => !r.sampled))),
        ours_sampled: round(perTask(sampled)),
        ours_in_blocks: round(onChainTask / ok.length),
        crynux_vss_onchain_unsampled: 5,
        crynux_vss_onchain_sampled: 11,
        crynux_vss_onchain_at_run_share: round(crynuxVss(sampledShare)),
        crynux_vss_onchain_at_10pct: round(crynuxVss(0.1)),
        crynux_relay_onchain: 0,
        crynux_relay_api_calls_at_1pct: round(crynuxRelayCalls(0.01)),
      },
      flow_txs: flow,
      block_txs: { byType: onChain.byType, total: onChain.total, failed: onChain.failed },
      anchor: {
        block_interval_ms: round(blockIntervalS * 1000, 1),
        blocks_per_s: round(1 / blockIntervalS),
        bank_send_ms: round(median(sendMs), 0),
        bank_send_blocks: median(sendBlocks),
        bank_send_fast_poll_ms: round(median(fastMs), 0),
        bank_send_fast_poll_blocks: median(fastBlocks),
        p50_in_bank_sends: round(p50 / median(sendBlocks), 2),
      },
      cpu_cores: { bench: round(cpuBench, 2), beryld: round(cpuBeryld, 2), cometbft: round(cpuComet, 2) },
      workers_up_s: round(workersUpS, 1),
      render_ms: round(renderMs, 0),
    }),
  )
}

let code = 0
try {
  await main()
} catch (err) {
  code = 1
  console.error(`bench:tasks failed: ${(err as Error).stack ?? err}`)
  if (nodeOut) console.error(`beryld output (tail):\n${nodeOut.slice(-4000)}`)
} finally {
  await cleanup()
}
process.exit(code)
