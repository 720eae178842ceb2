// What the chain seed's vote extensions cost (docs/decisions/0022): 1 and 4 validators from the same gentx
// ceremony code, each run with vote extensions off (abci.vote_extensions_enable_height = 0, the anchor) and
// on (= 1), idle, the same timeout_commit, in the same run on the same machine. Prints the mean block
// interval, the mean block size and the injected bytes per block, and the ratios on/off.
// Usage: npm run bench:vote-extensions [-- --blocks 20]
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { isInjected } from '../chain/voteext.ts'
import { waitForHeight } from '../cli/devnet.ts'
import { NodeProcess, createValidatorNetwork } from '../cli/network.ts'

const { values } = parseArgs({ options: { blocks: { type: 'string', default: '20' } } })
const BLOCKS = Number(values.blocks)
const BLOCK_TIME = '300ms'
const log = (m: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`)

async function rpc(url: string, pathAndQuery: string): Promise<any> {
  const r = (await (await fetch(`${url}/${pathAndQuery}`, { signal: AbortSignal.timeout(10_000) })).json()) as { result: any }
  return r.result
}

interface Run {
  validators: number
  extensions: boolean
  interval: number
  blockBytes: number
  injectedBytes: number
}

async function measure(root: string, validators: number, extensions: boolean): Promise<Run> {
  const net = await createValidatorNetwork(path.join(root, `v${validators}-${extensions ? 'on' : 'off'}`), {
    validators,
    accounts: 1,
    chainId: `beryl-bench-ve-${validators}`,
    randomPorts: true,
    timeoutCommit: BLOCK_TIME,
    voteExtensionsEnableHeight: extensions ? 1n : 0n,
  })
  const procs = net.validators.map((v) => new NodeProcess(v.home))
  for (const p of procs) p.start()
  try {
    const url = net.validators[0]!.rpc
    await waitForHeight(url, 4n, procs[0]!.exited())
    const from = Number((await rpc(url, 'status')).sync_info.latest_block_height)
    await waitForHeight(url, BigInt(from + BLOCKS), procs[0]!.exited())
    let injected = 0
    let size = 0
    const times: number[] = []
    for (let h = from; h <= from + BLOCKS; h++) {
      const b = await rpc(url, `block?height=${h}`)
      times.push(Date.parse(b.block.header.time))
      if (h === from) continue
      const txs: Buffer[] = (b.block.data.txs ?? []).map((t: string) => Buffer.from(t, 'base64'))
      if (txs[0] && isInjected(txs[0])) injected += txs[0].length
      size += Number((await rpc(url, `blockchain?minHeight=${h}&maxHeight=${h}`)).block_metas[0].block_size)
    }
    const run = {
      validators,
      extensions,
      interval: (times[times.length - 1]! - times[0]!) / 1000 / BLOCKS,
      blockBytes: size / BLOCKS,
      injectedBytes: injected / BLOCKS,
    }
    log(`${validators} validator(s), extensions ${extensions ? 'on' : 'off'}: ${run.interval.toFixed(3)} s/block, ${run.blockBytes} B/block`)
    return run
  } finally {
    await Promise.all(procs.map((p) => p.stop().catch(() => p.kill())))
  }
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-bench-ve-'))
try {
  const runs: Run[] = []
  for (const n of [1, 4]) for (const ext of [false, true]) runs.push(await measure(root, n, ext))
  console.log(`\nidle blocks, timeout_commit ${BLOCK_TIME}, ${BLOCKS} blocks each, ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)}`)
  console.log('| validators | extensions | s/block | block bytes | injected bytes |')
  console.log('|---|---|---|---|---|')
  for (const r of runs)
    console.log(`| ${r.validators} | ${r.extensions ? 'on' : 'off'} | ${r.interval.toFixed(3)} | ${r.blockBytes.toFixed(0)} | ${r.injectedBytes.toFixed(0)} |`)
  for (const n of [1, 4]) {
    const off = runs.find((r) => r.validators === n && !r.extensions)!
    const on = runs.find((r) => r.validators === n && r.extensions)!
    console.log(
      `${n} validator(s): on/off block interval ${(on.interval / off.interval).toFixed(2)}, +${(on.blockBytes - off.blockBytes).toFixed(0)} bytes/block (+${((on.interval - off.interval) * 1000).toFixed(0)} ms/block)`,
    )
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true })
}
