// Runs the integration test files two at a time, each file in its own mocha process, and prints each file's output
// whole when it ends (never interleaved). Most of an integration file's time is spent waiting for blocks, for
// processes to start and for peers, not computing, so two files share the two cores well; what must not share them
// is two multi-validator networks (4 × `beryld start` + CometBFT each), so at most one file marked heavy runs at a
// time, and a file whose assertions are about time (the chaos test's "no 10 s without a block while one validator
// is down") runs alone, after the others. Files go longest first (the durations below are measured on two cores;
// a file not listed is taken as medium) so that the last to end is a short one.
//
// Usage: node scripts/integration.mjs [--jobs N] [mocha args…]   (e.g. --grep 'vote extension'; N defaults to 2, here and in
// scripts/test.sh; INTEGRATION_JOBS=1 there runs one file at a time)
// The last line sums every file's results in the form CI reads: "N passed, N failed, N skipped".
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const DIR = path.join(ROOT, 'test', 'integration')

/** Seconds each file took alone on two cores (scripts/test.sh's report, 2026-12-02); heavy = starts a multi-validator network. */
const KNOWN = {
  'chaos.test.ts': { s: 117, heavy: true, alone: true },
  'attestation.test.ts': { s: 107, heavy: true },
  'validators.test.ts': { s: 105, heavy: true },
  'vote-extensions.test.ts': { s: 78, heavy: true },
  'sdk.test.ts': { s: 66 },
  'workers.test.ts': { s: 49 },
  'cli.test.ts': { s: 45 },
  'api.test.ts': { s: 38 },
  'gateway.test.ts': { s: 36 },
  'crash.test.ts': { s: 34 },
  'task.test.ts': { s: 31 },
}
const MEDIUM = 20

const args = process.argv.slice(2)
let jobs = 2
const j = args.indexOf('--jobs')
if (j >= 0) {
  jobs = Number(args[j + 1])
  if (!(Number.isInteger(jobs) && jobs >= 1)) {
    console.error('scripts/integration.mjs: --jobs takes a whole number ≥ 1')
    process.exit(2)
  }
  args.splice(j, 2)
}

const files = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => ({ name: f, s: KNOWN[f]?.s ?? MEDIUM, heavy: !!KNOWN[f]?.heavy, alone: !!KNOWN[f]?.alone }))
  .sort((a, b) => b.s - a.s || a.name.localeCompare(b.name))

const totals = { passed: 0, failed: 0, skipped: 0 }
const took = []
/** Each failing file's failures as mocha printed them, repeated at the end: CI shows only the tail of the output. */
const failures = []
let status = 0
let heavyRunning = false
let running = 0
const t0 = Date.now()

function runFile(f) {
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn('npx', ['mocha', path.join('test', 'integration', f.name), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('close', (code) => {
      const secs = (Date.now() - started) / 1000
      took.push([f.name, secs])
      process.stdout.write(`\n── ${f.name} (${secs.toFixed(0)} s) ${'─'.repeat(Math.max(0, 60 - f.name.length))}\n${out}`)
      const m = [...out.matchAll(/^(\d+) passed, (\d+) failed, (\d+) skipped$/gm)].at(-1)
      if (!m) {
        console.error(`scripts/integration.mjs: ${f.name} ended without its summary line (exit code ${code})`)
        status = 1
      } else {
        totals.passed += Number(m[1])
        totals.failed += Number(m[2])
        totals.skipped += Number(m[3])
      }
      if (code !== 0) {
        status = 1
        const at = out.search(/^\s+\d+ failing$/m)
        const text =
          at >= 0
            ? out
                .slice(at)
                .replace(/^\d+ passed, \d+ failed, \d+ skipped$/m, '')
                .trimEnd()
            : out.trimEnd().split('\n').slice(-30).join('\n')
        failures.push(`── ${f.name} (exit code ${code})\n${text.split('\n').slice(0, 80).join('\n')}`)
      }
      resolve()
    })
  })
}

const queue = [...files]
async function lane() {
  for (;;) {
    // The longest file this lane may take now: a heavy one only while no other heavy one runs; one that runs alone
    // only once every other file has ended.
    const k = queue.findIndex((f) => (f.alone ? running === 0 && queue.every((g) => g.alone) : !f.heavy || !heavyRunning))
    if (k < 0) {
      if (!queue.length) return
      await new Promise((r) => setTimeout(r, 500))
      continue
    }
    const [f] = queue.splice(k, 1)
    if (f.heavy) heavyRunning = true
    running++
    await runFile(f)
    running--
    if (f.heavy) heavyRunning = false
  }
}

process.stdout.write(`integration: ${files.length} files, ${jobs} at a time (at most one multi-validator network)\n`)
await Promise.all(Array.from({ length: jobs }, lane))
process.stdout.write(`\nintegration files by time (the run took ${((Date.now() - t0) / 1000).toFixed(0)} s):\n`)
for (const [name, secs] of took.sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${secs.toFixed(1).padStart(7)} s  ${name}\n`)
if (failures.length) process.stdout.write(`\nfailures (each printed whole above):\n${failures.join('\n\n')}\n`)
process.stdout.write(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`)
process.exit(status)
