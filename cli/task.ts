// `beryld task …`: run a task end to end and follow it (run, show, list, cancel, resume); and the raw
// forms a worker or a test needs: `beryld tx task create|validate|submit-score|reveal|attest`
// and `beryld query task queue|params`. Each command has one implementation (cli/README.md).
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { type Command, Option } from 'commander'
import { homePaths } from '../chain/node/config.ts'
import { ecvrfProve, ecvrfPublicKey } from '../modules/vss/index.ts'
import {
  QueryParamsRequest,
  QueryParamsResponse,
  QueryQueueRequest,
  QueryQueueResponse,
  QueryTaskRequest,
  QueryTaskResponse,
  QueryTasksRequest,
  QueryTasksResponse,
} from '../proto/gen/beryl/task/v1/query.ts'
import { Params, Task, TaskStatus, TaskType } from '../proto/gen/beryl/task/v1/types.ts'
// The SDK (and libp2p with it) loads only when a command runs a task: the others start quickly.
import type { BerylClient, Progress, TaskResult } from '../sdk/index.ts'
import { SMOLLM2_MODEL_ID } from '../sdk/models.ts'
import { keyring, moduleQuery, nodeUrl, print, sendMsg, type ClientFlags, type TxFlags } from './client.ts'
import { percent, readable } from './format.ts'
import { parseCoins } from './init.ts'
import { homeOpt, nodeOpt, outputOpt, queryFlags, txFlags } from './options.ts'
import { secs, taskTimeline, timelineText } from './task-timeline.ts'
import { commitmentFor } from './task-ids.ts'
import { taskStatusToJSON } from '../proto/gen/beryl/task/v1/types.ts'

export const hexArg = (s: string, what: string, bytes = 32): Uint8Array => {
  const h = s.replace(/^0x/, '')
  if (!new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(h)) throw new Error(`${what} must be ${bytes} bytes of hex`)
  return Buffer.from(h, 'hex')
}
export const statusName = (s: TaskStatus) => TaskStatus[s]?.replace('TASK_STATUS_', '').toLowerCase() ?? String(s)
export const STATUSES = Object.keys(TaskStatus)
  .filter((k) => k.startsWith('TASK_STATUS_'))
  .map((k) => k.replace('TASK_STATUS_', '').toLowerCase())

export function describeTask(t: Task): string {
  const lines = [
    `task             ${Buffer.from(t.taskIdCommitment).toString('hex')}`,
    `status           ${statusName(t.status)}${t.abortReason ? ` (${t.abortReason})` : ''}`,
    `type             ${TaskType[t.taskType]}`,
    `creator          ${t.creator}`,
    `node             ${t.selectedNode || '-'}`,
    `fee              ${t.fee} uberyl`,
    `sampling rate    ${percent(t.samplingRate)}`,
    `models           ${t.modelIds.join(', ')}`,
    `args             ${t.args.length > 120 ? t.args.slice(0, 117) + '...' : t.args}`,
  ]
  if (t.score.length) lines.push(`score            ${Buffer.from(t.score).toString('hex')}`)
  if (t.resultHash.length) lines.push(`result hash      ${Buffer.from(t.resultHash).toString('hex')}`)
  // Each validator's attestation (docs/decisions/0023): one that differs from the settled hash is shown as such.
  for (const a of t.attestations) {
    const h = Buffer.from(a.resultHash).toString('hex')
    const differs = t.resultHash.length > 0 && h !== Buffer.from(t.resultHash).toString('hex')
    lines.push(`attested         ${a.validator} ${h} at h${a.height}${differs ? ' (another hash)' : ''}`)
  }
  if (t.deadline) lines.push(`deadline         ${new Date(Number(t.deadline) * 1000).toISOString()}`)
  return lines.join('\n')
}

// ---- reading tasks ---------------------------------------------------------------------------

/** The filters of `task list`: a creator, a GPU node, a status (at least one), a page. */
export interface TaskListFilters {
  creator?: string
  gpuNode?: string
  status?: string
  limit: string
  pageKey?: string
}

/** The Tasks query (newest first) for these filters; an unknown status name is an error. */
export async function queryTasks(f: ClientFlags, o: TaskListFilters): Promise<QueryTasksResponse> {
  const status = o.status === undefined ? undefined : STATUSES.indexOf(o.status)
  if (status === -1) throw new Error(`unknown status ${o.status}; one of ${STATUSES.join(', ')}`)
  const statusValue = status === undefined ? undefined : TaskStatus[`TASK_STATUS_${o.status!.toUpperCase()}` as keyof typeof TaskStatus]
  const req = QueryTasksRequest.fromPartial({
    creator: o.creator ?? '',
    node: o.gpuNode ?? '',
    hasStatus: statusValue !== undefined,
    status: statusValue ?? 0,
    limit: Number(o.limit),
    key: o.pageKey ? Buffer.from(o.pageKey, 'hex') : new Uint8Array(),
  })
  return QueryTasksResponse.decode(await moduleQuery(f, 'beryl.task.v1.Query', 'Tasks', QueryTasksRequest.encode(req).finish()))
}

/** A module query whose HTTP request failed says which node it could not reach (cosmjs only says "fetch failed"). */
async function reaching<T>(f: Pick<ClientFlags, 'home' | 'node'>, p: Promise<T>): Promise<T> {
  try {
    return await p
  } catch (err) {
    if ((err as Error).message === 'fetch failed')
      throw new Error(`cannot reach a Beryl node at ${nodeUrl(f)} (fetch failed); is it running? (--node sets the address)`)
    throw err
  }
}

/** Parses a task id commitment argument: 32 bytes of hex, an optional 0x prefix. */
function commitmentArg(s: string): { bytes: Uint8Array; hex: string } {
  let bytes: Uint8Array
  try {
    bytes = hexArg(s, 'a task id commitment')
  } catch {
    throw new Error(`invalid task id ${JSON.stringify(s)}: a task id commitment is 32 bytes of hex (64 hex digits)`)
  }
  return { bytes, hex: Buffer.from(bytes).toString('hex') }
}

/** The task's record; a task the chain does not know is `Error: no task <hex> on chain`. */
async function getTask(f: ClientFlags, c: { bytes: Uint8Array; hex: string }): Promise<Task> {
  let raw: Uint8Array
  try {
    raw = await reaching(f, moduleQuery(f, 'beryl.task.v1.Query', 'Task', QueryTaskRequest.encode({ taskIdCommitment: c.bytes }).finish()))
  } catch (err) {
    if (/\(22\)|not found/i.test((err as Error).message) && !/cannot reach/.test((err as Error).message)) throw new Error(`no task ${c.hex} on chain`)
    throw err
  }
  const t = QueryTaskResponse.decode(raw).task
  if (!t) throw new Error(`no task ${c.hex} on chain`)
  return t
}

// ---- running tasks ---------------------------------------------------------------------------

interface RunFlags extends ClientFlags {
  from: string
  gateway?: string[]
  fee: string
  timeout: string
  models?: string
  minVram: string
  out?: string
}

/**
 * The gateways to download from: --gateway, else $BERYL_GATEWAY, else the gateway of the node in
 * --home (a devnet or a validator home).
 */
async function gatewaysFor(f: RunFlags): Promise<string[]> {
  if (f.gateway?.length) return f.gateway
  if (process.env.BERYL_GATEWAY) return process.env.BERYL_GATEWAY.split(',')
  const p = homePaths(f.home)
  const { gatewayAddress } = await import('../gateway/key.ts')
  const addr = fs.existsSync(p.appToml) && fs.existsSync(p.gatewayKey) ? await gatewayAddress(f.home) : undefined
  if (addr) return [addr]
  throw new Error(
    'no gateway to download the output from: pass --gateway <multiaddr> (a validator prints it with `beryld gateway address`) or set BERYL_GATEWAY',
  )
}

/** The SDK client for a command that runs a task (the SDK, and libp2p with it, load only here). */
async function connectSdk(f: RunFlags, signer: Parameters<typeof BerylClient.connect>[1]): Promise<BerylClient> {
  const { BerylClient } = await import('../sdk/client.ts')
  return BerylClient.connect(nodeUrl(f), signer, { gateways: await gatewaysFor(f), keyStoreDir: path.join(f.home, 'sdk-tasks') })
}

function uberylOf(fee: string): bigint {
  const c = parseCoins(fee)
  if (c.length !== 1 || c[0]!.denom !== 'uberyl') throw new Error('--fee takes one amount in uberyl or beryl, e.g. 1beryl')
  return BigInt(c[0]!.amount)
}

/**
 * The model a text task asks for when --models is not given: SmolLM2 when at least three nodes serve
 * it (a task needs three, docs/decisions/0011), else the bundled test model.
 */
async function defaultTextModels(client: BerylClient): Promise<string[] | undefined> {
  let serving = 0
  let key: Uint8Array = new Uint8Array(0)
  do {
    const page = await client.query.staking.nodes({ key, limit: 200 })
    serving += page.nodes.filter((n) => (n.status === 1 || n.status === 2) && n.modelIds.includes(SMOLLM2_MODEL_ID)).length // available or busy
    key = page.nextKey
  } while (key.length && serving < 3)
  return serving >= 3 ? [SMOLLM2_MODEL_ID] : undefined
}

/** A progress line: rewritten in place on a terminal, one line per stage otherwise. */
function progressPrinter(json: boolean): { update(p: Progress): void; done(): void } {
  const tty = process.stderr.isTTY && !json
  const order = ['created', 'queued', 'started', 'scored', 'sampled', 'validated', 'attested', 'downloaded']
  let sampled = false
  return {
    update(p) {
      if (json) return
      sampled ||= p.stage === 'sampled'
      const trail = order
        .slice(0, order.indexOf(p.stage) + 1)
        .filter((s) => s !== 'sampled' || sampled)
        .join(' → ')
      const line = `[h${p.height}] ${trail}: ${p.message}`
      if (tty) process.stderr.write(`\r\x1b[2K${line.length > 160 ? line.slice(0, 157) + '...' : line}`)
      else process.stderr.write(line + '\n')
    },
    done() {
      if (tty) process.stderr.write('\n')
    },
  }
}

async function runAndReport(f: RunFlags, type: 'image' | 'text', args: object): Promise<void> {
  const signer = await keyring(f).wallet(f.from)
  const client = await connectSdk(f, signer)
  const bar = progressPrinter(f.output === 'json')
  const abort = new AbortController()
  process.once('SIGINT', () => abort.abort())
  let r: TaskResult
  try {
    const modelIds = f.models ? f.models.split(',') : type === 'text' ? await defaultTextModels(client) : undefined
    r = await client.runTask({
      type,
      args,
      fee: uberylOf(f.fee),
      signal: abort.signal,
      timeoutMs: Number(f.timeout) * 1000,
      onProgress: (p) => bar.update(p),
      requirements: { ...(modelIds ? { modelIds } : {}), minVramGb: Number(f.minVram) },
    })
  } finally {
    bar.done()
    client.disconnect()
  }
  report(f, r, type)
}

/** Where outputs go: --out, else `<home>/outputs` (never silently the working directory). */
const outDir = (f: RunFlags) => path.resolve(f.out ?? path.join(f.home, 'outputs'))

function report(f: RunFlags, r: TaskResult, type: 'image' | 'text'): void {
  const dir = outDir(f)
  fs.mkdirSync(dir, { recursive: true })
  const files = r.outputs.map((b, i) => {
    const file = path.join(dir, `${r.commitments[0]!.slice(0, 16)}-${i}.${type === 'image' ? 'png' : 'json'}`)
    fs.writeFileSync(file, b)
    return file
  })
  const text =
    type === 'text'
      ? (JSON.parse(Buffer.from(r.outputs[0]!).toString()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content
      : undefined
  const json = {
    files,
    task_id: r.taskId,
    tasks: r.commitments,
    node: r.task.selectedNode,
    cross_validated: r.sampled,
    fee_paid: r.feePaid.toString(),
    tx_fees: r.txFees.toString(),
    score: Buffer.from(r.task.score).toString('hex'),
    status: taskStatusToJSON(r.task.status),
    heights: r.heights,
    gateway: r.gateway,
    ...(text !== undefined ? { text } : {}),
  }
  print(
    f,
    json,
    [
      ...(text !== undefined ? [text, ''] : []),
      `output        ${files.join(', ')}`,
      `task id       ${r.taskId}`,
      `tasks         ${r.commitments.join(', ')}`,
      `node          ${r.task.selectedNode}`,
      `verified      ${r.sampled ? 'cross-validated by a group of three nodes' : 'validated (not sampled for cross-validation)'}; output matches the score ${json.score}`,
      `fee paid      ${r.feePaid} uberyl (+ ${r.txFees} uberyl in transaction fees)`,
      `blocks        created at ${r.heights.created}, delivered at ${r.heights.delivered}`,
    ].join('\n'),
  )
}

/** The options of `task run image|text` and `task resume`. */
const runFlags = (c: Command) =>
  c
    .requiredOption('--from <key>', "the creator's key (pays the fee)")
    .option('--fee <amount>', "task fee (a sampled task's two validation tasks escrow it too and get it back)", '1beryl')
    .option('--gateway <multiaddr...>', 'gateway(s) to download from (default: $BERYL_GATEWAY, else the gateway of the node in --home)')
    .option('--models <ids>', 'comma-separated model ids (default: the bundled model; for text, SmolLM2 when three nodes serve it)')
    .option('--min-vram <gb>', 'least GPU memory', '0')
    .option('--timeout <s>', 'give up waiting after this many seconds (the task goes on; `beryld task resume` continues)', '900')
    .addOption(homeOpt())
    .addOption(nodeOpt())
    .addOption(outputOpt())
    .addOption(new Option('--keyring-backend <backend>', '"file" or "test"').choices(['file', 'test']).default('file'))

/**
 * A creator's secrets for the tasks `tx task create` makes, in `<home>/tasks/<commitment>.json`: the
 * task id, the nonce and the ECVRF key. Validation needs them; losing them means the task can only
 * time out. (`task run` keeps its own in `<home>/sdk-tasks/`, the SDK's key store.)
 */
function secretsPath(home: string, commitment: Uint8Array): string {
  return path.join(home, 'tasks', `${Buffer.from(commitment).toString('hex')}.json`)
}

// ---- the commands ----------------------------------------------------------------------------

/** `beryld task …`, `beryld tx task …` and `beryld query task …`. */
export function registerTaskCommands(program: Command, tx: Command, query: Command): void {
  registerTaskFlow(program.command('task').description('run tasks and follow them: run, show, list, cancel, resume'))
  registerTaskTxs(
    tx
      .command('task')
      .description(
        "raw task transactions (a worker's or a test's): create, validate, the node's score commitment and reveal, attestation; to cancel, `beryld task cancel`",
      ),
  )
  registerTaskQueries(query.command('task').description('the task queue and parameters; a task itself: `beryld task show|list`'))
}

function registerTaskFlow(task: Command): void {
  const run = task.command('run').description('run a task end to end: create, cross-validate if sampled, validate, download and check the output')

  runFlags(
    run
      .command('image')
      .description('generate images; writes PNGs into --out')
      .requiredOption('--prompt <text>', 'what to draw')
      .option('--negative-prompt <text>', 'what not to draw', '')
      .option('--size <WxH>', 'width x height, multiples of 8 from 64 to 1024', '256x256')
      .option('--steps <n>', 'denoising steps', '20')
      .option('--seed <n>', 'random seed (same seed, same image)', '0')
      .option('--images <n>', 'number of images (1..4)', '1')
      .option('--guidance <scale>', 'classifier-free guidance scale', '7.5')
      .option('--out <dir>', 'where to write the images (default: <home>/outputs; the paths are printed)'),
  ).action(async (f: RunFlags & { prompt: string; negativePrompt: string; size: string; steps: string; seed: string; images: string; guidance: string }) => {
    const m = /^(\d+)x(\d+)$/.exec(f.size)
    if (!m) throw new Error('--size must be WIDTHxHEIGHT, e.g. 256x256')
    const args = {
      prompt: f.prompt,
      negative_prompt: f.negativePrompt,
      width: Number(m[1]),
      height: Number(m[2]),
      steps: Number(f.steps),
      seed: Number(f.seed),
      num_images: Number(f.images),
      guidance_scale: Number(f.guidance),
    }
    await runAndReport(f, 'image', args)
  })

  runFlags(
    run
      .command('text')
      .description('generate text with the chat model; prints the reply and writes the completion JSON into --out')
      .requiredOption('--prompt <text>', 'the user message')
      .option('--system <text>', 'a system message')
      .option('--max-tokens <n>', 'most new tokens', '64')
      .option('--temperature <t>', '0 is greedy', '0')
      .option('--seed <n>', 'sampling seed', '0')
      .option('--out <dir>', 'where to write the completion JSON (default: <home>/outputs; the path is printed)'),
  ).action(async (f: RunFlags & { prompt: string; system?: string; maxTokens: string; temperature: string; seed: string }) => {
    const messages = [...(f.system ? [{ role: 'system', content: f.system }] : []), { role: 'user', content: f.prompt }]
    await runAndReport(f, 'text', { messages, max_new_tokens: Number(f.maxTokens), temperature: Number(f.temperature), seed: Number(f.seed) })
  })

  queryFlags(
    task
      .command('show')
      .description("a task's record and its timeline: every state change and payment, with block heights and times")
      .argument('<task>', "a task's commitment, or the task id `task run` printed (64 hex digits)"),
  ).action(async (arg: string, f: ClientFlags) => {
    const c = commitmentArg(commitmentFor(f.home, arg))
    const t = await getTask(f, c)
    const { timeline, payments } = await taskTimeline(f, c.hex)
    print(f, { task: readable(Task.toJSON(t)), timeline, payments }, `${describeTask(t)}\n\n${timelineText(timeline, payments)}`)
  })

  queryFlags(
    task
      .command('list')
      .description('tasks of a creator, a GPU node or in a status, newest first, one line each')
      .option('--creator <address>', 'tasks created by this account')
      .option('--gpu-node <address>', 'tasks assigned to this GPU node (--node is the RPC address)')
      .option('--status <status>', STATUSES.join(', '))
      .option('--limit <n>', 'how many', '50')
      .option('--page-key <hex>', 'continue after a previous page'),
  ).action(async (f: ClientFlags & TaskListFilters) => {
    if (!f.creator && !f.gpuNode && f.status === undefined) throw new Error('give at least one filter: --creator, --gpu-node or --status')
    if (!/^[1-9]\d*$/.test(f.limit)) throw new Error('--limit must be a positive integer')
    const r = await reaching(f, queryTasks(f, f))
    const next = Buffer.from(r.nextKey).toString('hex')
    const rows = r.tasks.map((t) => [
      `${Buffer.from(t.taskIdCommitment).toString('hex').slice(0, 16)}…`,
      statusName(t.status),
      TaskType[t.taskType]?.replace('TASK_TYPE_', '').toLowerCase() ?? String(t.taskType),
      `${t.fee}uberyl`,
      t.selectedNode || '-',
      t.createTime ? secs(new Date(Number(t.createTime) * 1000).toISOString()) : '-',
    ])
    const head = ['TASK', 'STATUS', 'TYPE', 'FEE', 'NODE', 'CREATED']
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
    const fmt = (row: string[]) => row.map((x, i) => (i === row.length - 1 ? x : x.padEnd(w[i]!))).join('  ')
    const text = r.tasks.length ? [fmt(head), ...rows.map(fmt)].join('\n') : 'no tasks'
    print(f, { tasks: r.tasks.map((x) => readable(Task.toJSON(x))), next_key: next }, text + (next ? `\n\nmore: --page-key ${next}` : ''))
  })

  txFlags(
    task
      .command('cancel')
      .description('cancel a queued task, refunding its fee in full (signed by its creator)')
      .argument('<task>', 'task id commitment (64 hex digits)')
      .requiredOption('--from <key>', "the creator's key (name or address in the keyring)"),
  ).action(async (arg: string, f: TxFlags & { from: string }) => {
    const c = commitmentArg(arg)
    await sendMsg(f, f.from, (creator) => ({ typeUrl: '/beryl.task.v1.MsgCancelTask', value: { creator, taskIdCommitment: c.bytes } }))
  })

  runFlags(
    task
      .command('resume')
      .description('finish a task this home started (after a crash or a timeout), by its task id or a commitment')
      .argument('<id>', 'task id or commitment (hex)')
      .option('--out <dir>', 'where to write the output (default: <home>/outputs; the paths are printed)'),
  ).action(async (id: string, f: RunFlags) => {
    const signer = await keyring(f).wallet(f.from)
    const client = await connectSdk(f, signer)
    const bar = progressPrinter(f.output === 'json')
    try {
      const stored = client.keys.load(id) ?? client.keys.findByCommitment(id)
      const r = await client.resumeTask(id, { timeoutMs: Number(f.timeout) * 1000, onProgress: (p) => bar.update(p) })
      bar.done()
      report(f, r, stored?.type ?? 'image')
    } finally {
      client.disconnect()
    }
  })
}

function registerTaskTxs(t: Command): void {
  const url = (n: string) => `/beryl.task.v1.${n}`

  txFlags(
    t
      .command('create')
      .description('create a task, escrowing its fee (keeps its secrets under <home>/tasks/ for validation)')
      .argument('<from>', 'creator key')
      .requiredOption('--type <type>', 'image or text')
      .requiredOption('--args <json>', 'task arguments as JSON (or @file)')
      .requiredOption('--models <ids>', 'comma-separated model ids')
      .option('--fee <amount>', 'fee to escrow', '1beryl')
      .option('--min-vram <gb>', 'least GPU memory', '8')
      .option('--required-gpu <name>', 'an exact GPU model instead of --min-vram')
      .option('--required-gpu-vram <gb>', 'with --required-gpu', '0')
      .option('--task-version <v>', 'least runner version', '0.1.0')
      .option('--task-id <hex>', 'reuse a task id (the validation tasks of a group share it)'),
  ).action(
    (
      from: string,
      f: TxFlags & {
        type: string
        args: string
        models: string
        fee: string
        minVram: string
        requiredGpu?: string
        requiredGpuVram: string
        taskVersion: string
        taskId?: string
      },
    ) => {
      const type = f.type === 'image' ? TaskType.TASK_TYPE_IMAGE : f.type === 'text' ? TaskType.TASK_TYPE_TEXT : undefined
      if (type === undefined) throw new Error('--type must be image or text')
      const args = f.args.startsWith('@') ? fs.readFileSync(f.args.slice(1), 'utf8') : f.args
      const fee = parseCoins(f.fee)
      if (fee.length !== 1 || fee[0]!.denom !== 'uberyl') throw new Error('--fee takes one amount in uberyl or beryl')
      const taskId = f.taskId ? hexArg(f.taskId, '--task-id') : randomBytes(32)
      const nonce = randomBytes(32)
      const vrfKey = randomBytes(32)
      const commitment = createHash('sha256').update(taskId).update(nonce).digest()
      const file = secretsPath(f.home, commitment)
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
      fs.writeFileSync(
        file,
        JSON.stringify({ task_id: taskId.toString('hex'), nonce: nonce.toString('hex'), vrf_secret_key: vrfKey.toString('hex') }, null, 2) + '\n',
        { mode: 0o600 },
      )
      if (f.output !== 'json') console.error(`task ${commitment.toString('hex')} (secrets in ${file})`)
      return sendMsg(f, from, (creator) => ({
        typeUrl: url('MsgCreateTask'),
        value: {
          creator,
          taskIdCommitment: commitment,
          nonce,
          taskType: type,
          args,
          modelIds: f.models.split(',').map((x) => x.trim()),
          minVramGb: Number(f.minVram),
          requiredGpu: f.requiredGpu ?? '',
          requiredGpuVramGb: Number(f.requiredGpuVram),
          taskVersion: f.taskVersion,
          fee: fee[0]!.amount,
          vrfPublicKey: ecvrfPublicKey(vrfKey),
        },
      }))
    },
  )

  txFlags(
    t
      .command('validate')
      .description(
        "validate a task whose node's score commitment is in a block: reveal the task id and prove the sampling decision with the stored ECVRF key (if selected, the chain creates the validation group)",
      )
      .argument('<from>', 'the signing key (name or address)')
      .argument('<task>', 'the task id commitment (hex); its secrets are in <home>/tasks'),
  ).action(async (from: string, task: string, f: TxFlags) => {
    const commitment = hexArg(task, 'task')
    const file = secretsPath(f.home, commitment)
    if (!fs.existsSync(file)) throw new Error(`no secrets for task ${task} in ${path.dirname(file)}; validate from the home that created it`)
    const secrets = JSON.parse(fs.readFileSync(file, 'utf8')) as { task_id: string; vrf_secret_key: string }
    const first = QueryTaskResponse.decode(
      await moduleQuery(f, 'beryl.task.v1.Query', 'Task', QueryTaskRequest.encode({ taskIdCommitment: commitment }).finish()),
    ).task!
    const proof = ecvrfProve(Buffer.from(secrets.vrf_secret_key, 'hex'), first.samplingSeed)
    return sendMsg(f, from, (creator) => ({
      typeUrl: url('MsgValidateTask'),
      value: { creator, taskIdCommitments: [commitment], taskId: Buffer.from(secrets.task_id, 'hex'), vrfProof: proof },
    }))
  })

  /** Where `submit-score` keeps the answer and salt that `reveal` opens. */
  const answerPath = (home: string, task: string) => path.join(home, 'answers', `${task.toLowerCase()}.json`)
  txFlags(
    t
      .command('submit-score')
      .description(
        "(node) commit to a started task's answer: sends sha256(score ‖ salt) with a fresh 32-byte salt, kept in <home>/answers for `reveal`. The answer is the score's hex (8 bytes per image, 32 per text output), or `error` to report unusable arguments",
      )
      .argument('<from>', 'the signing key (name or address)')
      .argument('<task>', 'task id commitment (hex)')
      .argument('<score>', 'hex score, or `error`'),
  ).action((from: string, c: string, score: string, f: TxFlags) => {
    if (score !== 'error' && !/^([0-9a-fA-F]{2})+$/.test(score)) throw new Error('score must be hex, or `error`')
    const bytes = score === 'error' ? Buffer.alloc(0) : Buffer.from(score, 'hex')
    const salt = randomBytes(32)
    const file = answerPath(f.home, c)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, JSON.stringify({ score: bytes.toString('hex'), salt: salt.toString('hex') }))
    return sendMsg(f, from, (node) => ({
      typeUrl: url('MsgSubmitScore'),
      value: { node, taskIdCommitment: hexArg(c, 'task'), scoreCommitment: createHash('sha256').update(bytes).update(salt).digest() },
    }))
  })
  txFlags(
    t
      .command('reveal')
      .description(
        "(node) open the commitment `submit-score` sent: when the task's validation group asks (all three committed), or to report an error on a validated task",
      )
      .argument('<from>', 'the signing key (name or address)')
      .argument('<task>', 'task id commitment (hex)'),
  ).action((from: string, c: string, f: TxFlags) => {
    const file = answerPath(f.home, c)
    if (!fs.existsSync(file)) throw new Error(`no committed answer for task ${c} in ${path.dirname(file)}; reveal from the home that sent submit-score`)
    const a = JSON.parse(fs.readFileSync(file, 'utf8')) as { score: string; salt: string }
    return sendMsg(f, from, (node) => ({
      typeUrl: url('MsgRevealResult'),
      value: { node, taskIdCommitment: hexArg(c, 'task'), score: Buffer.from(a.score, 'hex'), salt: Buffer.from(a.salt, 'hex') },
    }))
  })
  txFlags(
    t
      .command('attest')
      .description(
        "(a bonded validator's operator key) attest a validated task's uploaded result; it settles at 2/3 of the bonded power; for a single task, with the score and salt its upload revealed",
      )
      .argument('<from>', 'the signing key (name or address)')
      .argument('<task>', 'task id commitment (hex)')
      .argument('<result-hash>', '32 bytes hex')
      .option('--score <hex>', "the revealed score (a validated single task's)")
      .option('--salt <hex>', 'the salt that opens the score commitment with it'),
  ).action((from: string, c: string, h: string, f: TxFlags & { score?: string; salt?: string }) =>
    sendMsg(f, from, (attester) => ({
      typeUrl: url('MsgAttestResult'),
      value: {
        attester,
        taskIdCommitment: hexArg(c, 'task'),
        resultHash: hexArg(h, 'result hash'),
        score: Buffer.from(f.score ?? '', 'hex'),
        salt: Buffer.from(f.salt ?? '', 'hex'),
      },
    })),
  )
}

function registerTaskQueries(q: Command): void {
  queryFlags(q.command('queue').description('queued tasks in dispatch order').option('--limit <n>', 'most tasks to show', '50')).action(
    async (f: ClientFlags & { limit: string }) => {
      const r = QueryQueueResponse.decode(await moduleQuery(f, 'beryl.task.v1.Query', 'Queue', QueryQueueRequest.encode({ limit: Number(f.limit) }).finish()))
      print(f, { tasks: r.tasks.map((x) => readable(Task.toJSON(x))) }, r.tasks.length ? r.tasks.map(describeTask).join('\n\n') : 'the queue is empty')
    },
  )
  queryFlags(q.command('params').description('task parameters')).action(async (f: ClientFlags) => {
    const r = QueryParamsResponse.decode(await moduleQuery(f, 'beryl.task.v1.Query', 'Params', QueryParamsRequest.encode({}).finish()))
    print(f, readable(Params.toJSON(r.params!)), JSON.stringify(readable(Params.toJSON(r.params!)), null, 2))
  })
}
