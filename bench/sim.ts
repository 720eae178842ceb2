// The digital twin's speed at scale (issue 11: 10 000 nodes × 1 000 000 tasks in ≤ 10 minutes on 2 cores):
// honest-only runs of `beryld sim` (--preset beryl --adversary none --fee mix --fast-vrf) at 10 000 nodes and
// 10³, 10⁴, 10⁵ tasks. For each: the setup (genesis, the nodes' joins in block 1) and the run after it, wall
// and CPU time, ms per task, blocks and txs per task. The anchor, measured in the same run before each size:
// µs of CPU per elementary step of the twin (a Task record encoded, written to the twin's store, read back and
// decoded), so that runs on differently loaded machines compare as "twin steps per task".
// Usage: node --import tsx --import ./chain/polyfill.ts bench/sim.ts [--nodes 10000] [--tasks 1000,10000,100000]
// Memory: 10⁵ tasks hold ~1 GB; pass --max-old-space-size for 10⁶.
import { createHash } from 'node:crypto'
import { parseArgs } from 'node:util'
import { Task } from '../proto/gen/beryl/task/v1/types.ts'
import { build, resolveConfig, type SimConfig } from '../sim/scenario.ts'
import { OrderedStore } from '../sim/store.ts'

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '10000' }, tasks: { type: 'string', default: '1000,10000,100000' } } })
const NODES = Number(values.nodes)
const SIZES = values.tasks.split(',').map(Number)

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000
const log = (m: string) => process.stderr.write(m + '\n')

/** µs of CPU per twin step: encode a Task, write it, read it, decode it (median of 5 rounds of 20 000). */
function anchorUs(): number {
  const sha = (s: string) => new Uint8Array(createHash('sha256').update(s).digest())
  const task = (i: number) =>
    Task.fromPartial({
      taskIdCommitment: sha(`t${i}`),
      creator: 'beryl1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu',
      args: JSON.stringify({ prompt: `app prompt ${i}`, width: 256, height: 256, steps: 20 }),
      modelIds: ['ab'.repeat(32)],
      fee: '5000000',
      sequence: BigInt(i),
    })
  const rounds: number[] = []
  const store = new OrderedStore()
  // The twin's store orders a collection's keys only once a range read covers it: one does here, so that
  // the anchor's write still enters the ordered index, as it did when every key did.
  store.set(Buffer.from('task/\x01'), new Uint8Array())
  void [...store.range({ start: Buffer.from('task/\x01'), limit: 1 })]
  for (let r = 0; r < 5; r++) {
    const n = 20_000
    const c = process.cpuUsage()
    for (let i = 0; i < n; i++) {
      const t = task(r * n + i)
      const key = Buffer.concat([Buffer.from('task/\x01'), t.taskIdCommitment])
      store.set(key, Task.encode(t).finish())
      Task.decode(store.get(key)!)
    }
    rounds.push((cpuMs(process.cpuUsage(c)) * 1000) / n)
  }
  return rounds.sort((a, b) => a - b)[2]!
}

interface Row {
  tasks: number
  anchorUs: number
  setupS: number
  setupCpuS: number
  runS: number
  runCpuS: number
  blocks: bigint
  txsPerTask: number
  delivered: number
}

async function measure(tasks: number): Promise<Row> {
  const anchor = anchorUs()
  const cfg: SimConfig = resolveConfig({ preset: 'beryl', adversary: 'none', nodes: NODES, tasks, vrf: 'fast', seed: 'bench' })
  let c = process.cpuUsage()
  let t = performance.now()
  const { w, sim, apps } = await build(cfg)
  await w.start()
  await w.step() // block 1: every node's join
  const setupS = (performance.now() - t) / 1000
  const setupCpuS = cpuMs(process.cpuUsage(c)) / 1000
  const txs0 = w.chain.totals.txs
  c = process.cpuUsage()
  t = performance.now()
  // The loop of sim/scenario.ts's simulate(): arrivals, then open tasks ended or the drain time out.
  let lastArrival: bigint | undefined
  for (;;) {
    await w.step()
    if (w.chain.height % 500n === 0n) log(`  ${tasks} tasks: block ${w.chain.height}, ${sim.measures.honestTasks} created, ${sim.measures.openMeasured()} open`)
    if (!apps.every((a) => a.done)) continue
    lastArrival ??= w.now
    if (sim.measures.openMeasured() === 0 || w.now > lastArrival + BigInt(cfg.drainSeconds)) break
  }
  return {
    tasks,
    anchorUs: anchor,
    setupS,
    setupCpuS,
    runS: (performance.now() - t) / 1000,
    runCpuS: cpuMs(process.cpuUsage(c)) / 1000,
    blocks: w.chain.height,
    txsPerTask: (w.chain.totals.txs - txs0) / tasks,
    delivered: sim.measures.delivered,
  }
}

const rows: Row[] = []
for (const n of SIZES) {
  log(`${NODES} nodes × ${n} tasks …`)
  rows.push(await measure(n))
}

const f = (x: number, d = 2) => x.toFixed(d)
console.log(`\nberyld sim, honest only, ${NODES} nodes, --fee mix --fast-vrf (setup = genesis + the joins of block 1; run = every block after it)\n`)
console.log('| tasks | setup s (cpu) | run s (cpu) | run ms/task (cpu) | anchor µs | ms/task in anchor steps | blocks | txs/task | delivered |')
console.log('|---|---|---|---|---|---|---|---|---|')
for (const r of rows) {
  const perTask = (r.runS * 1000) / r.tasks
  console.log(
    `| ${r.tasks} | ${f(r.setupS, 1)} (${f(r.setupCpuS, 1)}) | ${f(r.runS, 1)} (${f(r.runCpuS, 1)}) | ${f(perTask, 3)} (${f((r.runCpuS * 1000) / r.tasks, 3)}) | ${f(r.anchorUs)} | ${f((perTask * 1000) / r.anchorUs, 0)} | ${r.blocks} | ${f(r.txsPerTask)} | ${r.delivered} |`,
  )
}
for (let i = 1; i < rows.length; i++) {
  const a = rows[i - 1]!,
    b = rows[i]!
  const growth = (b.runCpuS / b.tasks / (a.runCpuS / a.tasks)) * (a.anchorUs / b.anchorUs)
  console.log(`CPU ms/task ${b.tasks} vs ${a.tasks} tasks: ×${f(growth)} (anchor-corrected)`)
}
const last = rows[rows.length - 1]!
console.log(
  `projected 10⁶ tasks at the ${last.tasks}-task rate: ${f((last.setupS + (last.runS / last.tasks) * 1e6) / 60, 1)} min wall, ${f((last.setupCpuS + (last.runCpuS / last.tasks) * 1e6) / 60, 1)} min CPU (before any growth beyond ${last.tasks})`,
)
