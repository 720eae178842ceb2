import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Command, Option } from 'commander'
import { ecvrfProve, ecvrfPublicKey } from '../modules/vss/ecvrf.ts'
import { NodeQos } from '../proto/gen/beryl/qos/v1/types.ts'
import { QueryNodeQosRequest, QueryNodeQosResponse } from '../proto/gen/beryl/qos/v1/query.ts'
import {
  QueryParamsRequest, QueryParamsResponse, QueryQueueRequest, QueryQueueResponse, QueryTaskRequest, QueryTaskResponse, QueryTasksRequest, QueryTasksResponse,
} from '../proto/gen/beryl/task/v1/query.ts'
import { Params, Task, TaskStatus, TaskType } from '../proto/gen/beryl/task/v1/types.ts'
import { QuerySamplingRateRequest, QuerySamplingRateResponse } from '../proto/gen/beryl/vss/v1/query.ts'
import { moduleQuery, print, sendMsg, type ClientFlags, type TxFlags } from './client.ts'
import { parseCoins } from './init.ts'
import { fixedToDecimal, readable } from './format.ts'

interface Opts { txFlags: (c: Command) => Command; homeOpt: () => Option; nodeOpt: () => Option; outputOpt: () => Option }

const E18 = 10n ** 18n
export const hexArg = (s: string, what: string, bytes = 32): Uint8Array => {
  const h = s.replace(/^0x/, '')
  if (!new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(h)) throw new Error(`${what} must be ${bytes} bytes of hex`)
  return Buffer.from(h, 'hex')
}
const percent = (fixed: string) => `${(Number(BigInt(fixed) * 1_000_000n / E18) / 10_000).toFixed(4)}%`
export const statusName = (s: TaskStatus) => TaskStatus[s]?.replace('TASK_STATUS_', '').toLowerCase() ?? String(s)
export const STATUSES = Object.keys(TaskStatus).filter((k) => k.startsWith('TASK_STATUS_')).map((k) => k.replace('TASK_STATUS_', '').toLowerCase())

/**
 * A creator's secrets for its tasks, in `<home>/tasks/<commitment>.json`: the task id, the nonce and
 * the ECVRF key. Validation needs them; losing them means the task can only time out.
 */
function secretsPath(home: string, commitment: Uint8Array): string {
  return path.join(home, 'tasks', `${Buffer.from(commitment).toString('hex')}.json`)
}

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
  if (t.deadline) lines.push(`deadline         ${new Date(Number(t.deadline) * 1000).toISOString()}`)
  return lines.join('\n')
}

/** The filters of `query task list` and `task list`: a creator, a GPU node, a status (at least one), a page. */
export interface TaskListFilters { creator?: string; gpuNode?: string; status?: string; limit: string; pageKey?: string }

/** The Tasks query (newest first) for these filters; an unknown status name is an error. */
export async function queryTasks(f: ClientFlags, o: TaskListFilters): Promise<QueryTasksResponse> {
  const status = o.status === undefined ? undefined : STATUSES.indexOf(o.status)
  if (status === -1) throw new Error(`unknown status ${o.status}; one of ${STATUSES.join(', ')}`)
  const statusValue = status === undefined ? undefined : TaskStatus[`TASK_STATUS_${o.status!.toUpperCase()}` as keyof typeof TaskStatus]
  const req = QueryTasksRequest.fromPartial({ creator: o.creator ?? '', node: o.gpuNode ?? '', hasStatus: statusValue !== undefined, status: statusValue ?? 0, limit: Number(o.limit), key: o.pageKey ? Buffer.from(o.pageKey, 'hex') : new Uint8Array() })
  return QueryTasksResponse.decode(await moduleQuery(f, 'beryl.task.v1.Query', 'Tasks', QueryTasksRequest.encode(req).finish()))
}

export function registerTaskCommands(tx: Command, query: Command, o: Opts): void {
  const t = tx.command('task').description('tasks: create, cancel, validate; the node\'s score and error report; attestation')
  const url = (n: string) => `/beryl.task.v1.${n}`

  o.txFlags(t.command('create').description('create a task, escrowing its fee (keeps its secrets under <home>/tasks/ for validation)')
    .argument('<from>', 'creator key')
    .requiredOption('--type <type>', 'image or text')
    .requiredOption('--args <json>', 'task arguments as JSON (or @file)')
    .requiredOption('--models <ids>', 'comma-separated model ids')
    .option('--fee <amount>', 'fee to escrow', '1beryl')
    .option('--min-vram <gb>', 'least GPU memory', '8')
    .option('--required-gpu <name>', 'an exact GPU model instead of --min-vram')
    .option('--required-gpu-vram <gb>', 'with --required-gpu', '0')
    .option('--task-version <v>', 'least runner version', '0.1.0')
    .option('--task-id <hex>', 'reuse a task id (the validation tasks of a group share it)'))
    .action((from: string, f: TxFlags & { type: string; args: string; models: string; fee: string; minVram: string; requiredGpu?: string; requiredGpuVram: string; taskVersion: string; taskId?: string }) => {
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
      fs.writeFileSync(file, JSON.stringify({ task_id: taskId.toString('hex'), nonce: nonce.toString('hex'), vrf_secret_key: vrfKey.toString('hex') }, null, 2) + '\n', { mode: 0o600 })
      if (f.output !== 'json') console.error(`task ${commitment.toString('hex')} (secrets in ${file})`)
      return sendMsg(f, from, (creator) => ({
        typeUrl: url('MsgCreateTask'),
        value: {
          creator, taskIdCommitment: commitment, nonce, taskType: type, args, modelIds: f.models.split(',').map((x) => x.trim()),
          minVramGb: Number(f.minVram), requiredGpu: f.requiredGpu ?? '', requiredGpuVramGb: Number(f.requiredGpuVram), taskVersion: f.taskVersion,
          fee: fee[0]!.amount, vrfPublicKey: ecvrfPublicKey(vrfKey),
        },
      }))
    })

  o.txFlags(t.command('cancel').description('cancel a queued task (full refund)').argument('<from>', 'the signing key (name or address)').argument('<task>', 'task id commitment (hex)'))
    .action((from: string, c: string, f: TxFlags) => sendMsg(f, from, (creator) => ({ typeUrl: url('MsgCancelTask'), value: { creator, taskIdCommitment: hexArg(c, 'task') } })))

  o.txFlags(t.command('validate').description('validate 1 task (not sampled) or the 3 tasks of its validation group, proving the sampling decision with the stored ECVRF key')
    .argument('<from>', 'the signing key (name or address)').argument('<tasks...>', '1 or 3 task id commitments; the first holds the secrets'))
    .action(async (from: string, tasks: string[], f: TxFlags) => {
      const commitments = tasks.map((c) => hexArg(c, 'task'))
      const file = secretsPath(f.home, commitments[0]!)
      if (!fs.existsSync(file)) throw new Error(`no secrets for task ${tasks[0]} in ${path.dirname(file)}; validate from the home that created it`)
      const secrets = JSON.parse(fs.readFileSync(file, 'utf8')) as { task_id: string; vrf_secret_key: string }
      const first = QueryTaskResponse.decode(await moduleQuery(f, 'beryl.task.v1.Query', 'Task', QueryTaskRequest.encode({ taskIdCommitment: commitments[0]! }).finish())).task!
      const proof = ecvrfProve(Buffer.from(secrets.vrf_secret_key, 'hex'), first.samplingSeed)
      return sendMsg(f, from, (creator) => ({ typeUrl: url('MsgValidateTask'), value: { creator, taskIdCommitments: commitments, taskId: Buffer.from(secrets.task_id, 'hex'), vrfProof: proof } }))
    })

  o.txFlags(t.command('submit-score').description('(node) submit the result fingerprint of a started task').argument('<from>', 'the signing key (name or address)').argument('<task>', 'task id commitment (hex)').argument('<score>', 'hex: 8 bytes per image, 32 per text output'))
    .action((from: string, c: string, score: string, f: TxFlags) => {
      if (!/^([0-9a-fA-F]{2})+$/.test(score)) throw new Error('score must be hex')
      return sendMsg(f, from, (node) => ({ typeUrl: url('MsgSubmitScore'), value: { node, taskIdCommitment: hexArg(c, 'task'), score: Buffer.from(score, 'hex') } }))
    })
  o.txFlags(t.command('report-error').description('(node) report that the task\'s arguments are invalid (slashed if its group disagrees)').argument('<from>', 'the signing key (name or address)').argument('<task>', 'task id commitment (hex)'))
    .action((from: string, c: string, f: TxFlags) => sendMsg(f, from, (node) => ({ typeUrl: url('MsgReportError'), value: { node, taskIdCommitment: hexArg(c, 'task'), error: 1 } })))
  o.txFlags(t.command('attest').description('(attester) confirm a validated task\'s uploaded result').argument('<from>', 'the signing key (name or address)').argument('<task>', 'task id commitment (hex)').argument('<result-hash>', '32 bytes hex'))
    .action((from: string, c: string, h: string, f: TxFlags) => sendMsg(f, from, (attester) => ({ typeUrl: url('MsgAttestResult'), value: { attester, taskIdCommitment: hexArg(c, 'task'), resultHash: hexArg(h, 'result hash') } })))

  const qOpts = (c: Command) => c.addOption(o.homeOpt()).addOption(o.nodeOpt()).addOption(o.outputOpt())
  const q = query.command('task').description('tasks and the queue')
  qOpts(q.command('show').description('one task').argument('<task>', 'task id commitment (hex)'))
    .action(async (c: string, f: ClientFlags) => {
      const r = QueryTaskResponse.decode(await moduleQuery(f, 'beryl.task.v1.Query', 'Task', QueryTaskRequest.encode({ taskIdCommitment: hexArg(c, 'task') }).finish()))
      print(f, readable(Task.toJSON(r.task!)), describeTask(r.task!))
    })
  qOpts(q.command('list').description('tasks of a creator, a node or in a status, newest first')
    .option('--creator <address>', 'tasks created by this account').option('--gpu-node <address>', 'tasks assigned to this GPU node').option('--status <status>', STATUSES.join(', ')).option('--limit <n>', 'page size', '50').option('--page-key <hex>', 'continue from a previous page\'s next key'))
    .action(async (f: ClientFlags & TaskListFilters) => {
      const r = await queryTasks(f, f)
      const next = Buffer.from(r.nextKey).toString('hex')
      print(f, { tasks: r.tasks.map((x) => readable(Task.toJSON(x))), next_key: next }, (r.tasks.length ? r.tasks.map(describeTask).join('\n\n') : 'no tasks') + (next ? `\n\nmore: --page-key ${next}` : ''))
    })
  qOpts(q.command('queue').description('queued tasks in dispatch order').option('--limit <n>', 'most tasks to show', '50'))
    .action(async (f: ClientFlags & { limit: string }) => {
      const r = QueryQueueResponse.decode(await moduleQuery(f, 'beryl.task.v1.Query', 'Queue', QueryQueueRequest.encode({ limit: Number(f.limit) }).finish()))
      print(f, { tasks: r.tasks.map((x) => readable(Task.toJSON(x))) }, r.tasks.length ? r.tasks.map(describeTask).join('\n\n') : 'the queue is empty')
    })
  qOpts(q.command('params').description('task parameters'))
    .action(async (f: ClientFlags) => {
      const r = QueryParamsResponse.decode(await moduleQuery(f, 'beryl.task.v1.Query', 'Params', QueryParamsRequest.encode({}).finish()))
      print(f, readable(Params.toJSON(r.params!)), JSON.stringify(readable(Params.toJSON(r.params!)), null, 2))
    })

  qOpts(query.command('qos').description('quality of service of GPU nodes').command('node').description('a node\'s scores, health and exclusion').argument('<address>'))
    .action(async (address: string, f: ClientFlags) => {
      const r = QueryNodeQosResponse.decode(await moduleQuery(f, 'beryl.qos.v1.Query', 'NodeQos', QueryNodeQosRequest.encode({ node: address }).finish()))
      const fx = (v: string) => (Number(BigInt(v) * 10_000n / E18) / 10_000).toFixed(4)
      print(f, { ...(readable(NodeQos.toJSON(r.qos!)) as object), q_long: fixedToDecimal(r.qLong), health: fixedToDecimal(r.health), qos: fixedToDecimal(r.qosValue) },
        `node        ${address}\nsamples     ${r.qos!.scores.length} (last: ${r.qos!.scores.slice(-10).join(' ') || '-'})\nQ_long      ${fx(r.qLong)}\nhealth      ${fx(r.health)}${r.qos!.excluded ? `  (excluded until ${new Date(Number(r.qos!.excludedUntil) * 1000).toISOString()})` : ''}\nQoS         ${fx(r.qosValue)}`)
    })

  qOpts(query.command('vss').description('verifiable secret sampling').command('sampling-rate').description('the sampling rate r a fee gets on the current network, the attacker\'s odds p and expected profit E')
    .requiredOption('--fee <amount>', 'e.g. 10beryl').option('--model <id>', 'count only Available nodes holding this model'))
    .action(async (f: ClientFlags & { fee: string; model?: string }) => {
      const fee = parseCoins(f.fee)
      if (fee.length !== 1 || fee[0]!.denom !== 'uberyl') throw new Error('--fee takes one amount in uberyl or beryl')
      const r = QuerySamplingRateResponse.decode(await moduleQuery(f, 'beryl.vss.v1.Query', 'SamplingRate', QuerySamplingRateRequest.encode({ fee: fee[0]!.amount, modelId: f.model ?? '' }).finish()))
      const text = r.error
        ? `cannot secure this fee: ${r.error}${r.maxSecurableFee ? `\nlargest securable fee: ${r.maxSecurableFee} uberyl` : ''}`
        : `eligible nodes    ${r.eligibleNodes} (assumed dishonest: ${r.dishonestNodes})\np (attacker holds ≥ 2 of 3)  ${percent(r.attackerMajorityProbability)}\nsampling rate r   ${percent(r.rate)}\nattacker E        ${(Number(BigInt(r.expectedProfit) / 10n ** 30n) / 1e6).toFixed(6)} uberyl (≤ 0)${r.maxSecurableFee ? `\nlargest securable fee  ${r.maxSecurableFee} uberyl` : ''}`
      print(f, readable(r), text)
      if (r.error) process.exitCode = 1
    })
}
