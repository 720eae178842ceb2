import fs from 'node:fs'
import path from 'node:path'
import { type Command, Option } from 'commander'
import { homePaths } from '../chain/node/config.ts'
import { BerylClient, type Progress, type TaskResult } from '../sdk/index.ts'
import { gatewayAddress } from './gateway.ts'
import { keyring, nodeUrl, print, type ClientFlags } from './client.ts'
import { parseCoins } from './init.ts'
import { taskStatusToJSON } from '../proto/gen/beryl/task/v1/types.ts'

interface RunFlags extends ClientFlags {
  from: string
  gateway?: string[]
  fee: string
  timeout: string
  models?: string
  minVram: string
}

/**
 * The gateways to download from: --gateway, else $BERYL_GATEWAY, else the gateway of the node in
 * --home (a devnet or a validator home).
 */
async function gatewaysFor(f: RunFlags): Promise<string[]> {
  if (f.gateway?.length) return f.gateway
  if (process.env.BERYL_GATEWAY) return process.env.BERYL_GATEWAY.split(',')
  const p = homePaths(f.home)
  const addr = fs.existsSync(p.appToml) && fs.existsSync(p.gatewayKey) ? await gatewayAddress(f.home) : undefined
  if (addr) return [addr]
  throw new Error('no gateway to download the output from: pass --gateway <multiaddr> (a validator prints it with `beryld gateway address`) or set BERYL_GATEWAY')
}

function uberylOf(fee: string): bigint {
  const c = parseCoins(fee)
  if (c.length !== 1 || c[0]!.denom !== 'uberyl') throw new Error('--fee takes one amount in uberyl or beryl, e.g. 1beryl')
  return BigInt(c[0]!.amount)
}

/** A progress line: rewritten in place on a terminal, one line per stage otherwise. */
function progressPrinter(json: boolean): { update(p: Progress): void; done(): void } {
  const tty = process.stderr.isTTY && !json
  const order = ['created', 'sampled', 'queued', 'started', 'scored', 'validated', 'attested', 'downloaded']
  return {
    update(p) {
      if (json) return
      const trail = order.slice(0, order.indexOf(p.stage) + 1).filter((s) => s !== 'sampled' || p.stage === 'sampled' || p.commitments.length === 3).join(' → ')
      const line = `[h${p.height}] ${trail}: ${p.message}`
      if (tty) process.stderr.write(`\r\x1b[2K${line.length > 160 ? line.slice(0, 157) + '...' : line}`)
      else process.stderr.write(line + '\n')
    },
    done() { if (tty) process.stderr.write('\n') },
  }
}

async function runAndReport(f: RunFlags, type: 'image' | 'text', args: object, out: string | undefined): Promise<void> {
  const signer = await keyring(f).wallet(f.from)
  const client = await BerylClient.connect(nodeUrl(f), signer, { gateways: await gatewaysFor(f), keyStoreDir: path.join(f.home, 'sdk-tasks') })
  const bar = progressPrinter(f.output === 'json')
  const abort = new AbortController()
  process.once('SIGINT', () => abort.abort())
  let r: TaskResult
  try {
    r = await client.runTask({
      type, args, fee: uberylOf(f.fee), signal: abort.signal, timeoutMs: Number(f.timeout) * 1000, onProgress: (p) => bar.update(p),
      requirements: { ...(f.models ? { modelIds: f.models.split(',') } : {}), minVramGb: Number(f.minVram) },
    })
  } finally {
    bar.done()
    client.disconnect()
  }
  report(f, r, type, out)
}

function report(f: ClientFlags, r: TaskResult, type: 'image' | 'text', out: string | undefined): void {
  const dir = out ?? '.'
  fs.mkdirSync(dir, { recursive: true })
  const files = r.outputs.map((b, i) => {
    const file = path.resolve(dir, `${r.commitments[0]!.slice(0, 16)}-${i}.${type === 'image' ? 'png' : 'json'}`)
    fs.writeFileSync(file, b)
    return file
  })
  const text = type === 'text' ? (JSON.parse(Buffer.from(r.outputs[0]!).toString()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content : undefined
  const json = {
    files, task_id: r.taskId, tasks: r.commitments, node: r.task.selectedNode, cross_validated: r.sampled, fee_paid: r.feePaid.toString(), tx_fees: r.txFees.toString(),
    score: Buffer.from(r.task.score).toString('hex'), status: taskStatusToJSON(r.task.status), heights: r.heights, gateway: r.gateway, ...(text !== undefined ? { text } : {}),
  }
  print(f, json, [
    ...(text !== undefined ? [text, ''] : []),
    `output        ${files.join(', ')}`,
    `task id       ${r.taskId}`,
    `tasks         ${r.commitments.join(', ')}`,
    `node          ${r.task.selectedNode}`,
    `verified      ${r.sampled ? 'cross-validated by a group of three nodes' : 'validated (not sampled for cross-validation)'}; output matches the score ${json.score}`,
    `fee paid      ${r.feePaid} uberyl (+ ${r.txFees} uberyl in transaction fees)`,
    `blocks        created at ${r.heights.created}, delivered at ${r.heights.delivered}`,
  ].join('\n'))
}

/** `beryld task run image|text` and `beryld task resume`: the whole verified flow from the command line. */
export function registerTaskRunCommands(task: Command, o: { homeOpt: () => Option; nodeOpt: () => Option; outputOpt: () => Option }): void {
  const common = (c: Command) => c
    .requiredOption('--from <key>', 'the creator\'s key (pays the fee)')
    .option('--fee <amount>', 'task fee (a sampled task\'s two validation tasks escrow it too and get it back)', '1beryl')
    .option('--gateway <multiaddr...>', 'gateway(s) to download from (default: $BERYL_GATEWAY, else the gateway of the node in --home)')
    .option('--models <ids>', 'comma-separated model ids (default: the bundled model)')
    .option('--min-vram <gb>', 'least GPU memory', '0')
    .option('--timeout <s>', 'give up waiting after this many seconds (the task goes on; `beryld task resume` continues)', '900')
    .addOption(o.homeOpt()).addOption(o.nodeOpt()).addOption(o.outputOpt())
    .addOption(new Option('--keyring-backend <backend>', '"file" or "test"').choices(['file', 'test']).default('file'))
  const run = task.command('run').description('run a task end to end: create, cross-validate if sampled, validate, download and check the output')

  common(run.command('image').description('generate images; writes PNGs into --out')
    .requiredOption('--prompt <text>', 'what to draw')
    .option('--negative-prompt <text>', 'what not to draw', '')
    .option('--size <WxH>', 'width x height, multiples of 8 from 64 to 1024', '256x256')
    .option('--steps <n>', 'denoising steps', '20')
    .option('--seed <n>', 'random seed (same seed, same image)', '0')
    .option('--images <n>', 'number of images (1..4)', '1')
    .option('--guidance <scale>', 'classifier-free guidance scale', '7.5')
    .option('--out <dir>', 'where to write the images', '.'))
    .action(async (f: RunFlags & { prompt: string; negativePrompt: string; size: string; steps: string; seed: string; images: string; guidance: string; out: string }) => {
      const m = /^(\d+)x(\d+)$/.exec(f.size)
      if (!m) throw new Error('--size must be WIDTHxHEIGHT, e.g. 256x256')
      const args = { prompt: f.prompt, negative_prompt: f.negativePrompt, width: Number(m[1]), height: Number(m[2]), steps: Number(f.steps), seed: Number(f.seed), num_images: Number(f.images), guidance_scale: Number(f.guidance) }
      await runAndReport(f, 'image', args, f.out)
    })

  common(run.command('text').description('generate text with the chat model; prints the reply and writes the completion JSON into --out')
    .requiredOption('--prompt <text>', 'the user message')
    .option('--system <text>', 'a system message')
    .option('--max-tokens <n>', 'most new tokens', '64')
    .option('--temperature <t>', '0 is greedy', '0')
    .option('--seed <n>', 'sampling seed', '0')
    .option('--out <dir>', 'where to write the completion JSON', '.'))
    .action(async (f: RunFlags & { prompt: string; system?: string; maxTokens: string; temperature: string; seed: string; out: string }) => {
      const messages = [...(f.system ? [{ role: 'system', content: f.system }] : []), { role: 'user', content: f.prompt }]
      await runAndReport(f, 'text', { messages, max_new_tokens: Number(f.maxTokens), temperature: Number(f.temperature), seed: Number(f.seed) }, f.out)
    })

  common(task.command('resume').description('finish a task this home started (after a crash or a timeout), by its task id or a commitment')
    .argument('<id>', 'task id or commitment (hex)')
    .option('--out <dir>', 'where to write the output', '.'))
    .action(async (id: string, f: RunFlags & { out: string }) => {
      const signer = await keyring(f).wallet(f.from)
      const client = await BerylClient.connect(nodeUrl(f), signer, { gateways: await gatewaysFor(f), keyStoreDir: path.join(f.home, 'sdk-tasks') })
      const bar = progressPrinter(f.output === 'json')
      try {
        const stored = client.keys.load(id) ?? client.keys.findByCommitment(id)
        const r = await client.resumeTask(id, { timeoutMs: Number(f.timeout) * 1000, onProgress: (p) => bar.update(p) })
        bar.done()
        report(f, r, stored?.type ?? 'image', f.out)
      } finally {
        client.disconnect()
      }
    })
}
