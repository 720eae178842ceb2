import type { Command } from 'commander'
import {
  QueryNodeRecordRequest,
  QueryNodeRecordResponse,
  QueryNodeRequest,
  QueryNodeResponse,
  QueryNodesRequest,
  QueryNodesResponse,
  QueryParamsRequest,
  QueryParamsResponse,
  QuerySlashesRequest,
  QuerySlashesResponse,
} from '../proto/gen/beryl/staking/v1/query.ts'
import { Node, NodeRecord, NodeStatus, SlashRecord } from '../proto/gen/beryl/staking/v1/types.ts'
import { moduleQuery, print, sendMsg, type ClientFlags, type TxFlags } from './client.ts'
import { parseCoins } from './init.ts'
import { queryFlags, txFlags } from './options.ts'
import { readable } from './format.ts'

const STATUS_NAMES = ['available', 'busy', 'pending-pause', 'paused', 'pending-quit', 'unbonding']
const statusOf = (s: string): NodeStatus => {
  const i = STATUS_NAMES.indexOf(s)
  if (i < 0) throw new Error(`unknown status ${JSON.stringify(s)}; one of ${STATUS_NAMES.join(', ')}`)
  return (i + 1) as NodeStatus
}
const uberyl = (s: string): string => {
  const c = parseCoins(s)
  if (c.length !== 1 || c[0]!.denom !== 'uberyl') throw new Error(`${s}: give one amount in uberyl or beryl`)
  return c[0]!.amount
}
const modelList = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)

function describeNode(n: Node): string {
  return [
    `address          ${n.address}`,
    `status           ${STATUS_NAMES[n.status - 1] ?? n.status}`,
    `gpu              ${n.gpuName} (${n.gpuVramGb} GB)`,
    `runner version   ${n.runnerVersion}`,
    `models           ${n.modelIds.join(', ')}`,
    `stake            ${n.stake} uberyl`,
    ...(n.status === NodeStatus.NODE_STATUS_UNBONDING ? [`stake returns at ${new Date(Number(n.unbondingUntil) * 1000).toISOString()}`] : []),
  ].join('\n')
}

const isoTime = (s: bigint): string => new Date(Number(s) * 1000).toISOString()

function describeRecord(r: NodeRecord): string {
  return [
    `address          ${r.address}`,
    `first joined     ${isoTime(r.firstJoinedAt)}`,
    `earned           ${r.earned} uberyl (${r.tasksPaid} payments)`,
    `slashed          ${r.slashCount === 0 ? 'never' : `${r.slashCount} time(s), ${r.slashedAmount} uberyl in total`}`,
    ...(r.slashCount > 0
      ? [
          `last slash       ${isoTime(r.lastSlashTime)}${r.lastSlashReason ? ` (${r.lastSlashReason})` : ''}`,
          ...(r.lastSlashTask ? [`last slash task  ${r.lastSlashTask}`] : []),
        ]
      : []),
    `kicked out       ${r.kickedOutTime === 0n ? 'never' : `${isoTime(r.kickedOutTime)}${r.kickedOutReason ? ` (${r.kickedOutReason})` : ''}`}`,
  ].join('\n')
}

/** `beryld tx staking …` and `beryld query staking …`. */
export function registerStakingCommands(tx: Command, query: Command): void {
  const t = tx.command('staking').description('GPU node registration: join, stake, models, pause, resume, quit')
  const m = (name: string) => `/beryl.staking.v1.${name}`

  txFlags(
    t
      .command('join')
      .description("register the key's account as a GPU node, staking at least min_stake (400 BERYL)")
      .argument('<from>', 'key name or address in the keyring')
      .requiredOption('--gpu-name <name>', 'GPU model, e.g. "NVIDIA GeForce RTX 4090"')
      .requiredOption('--gpu-vram <gb>', 'GPU memory in GB')
      .requiredOption('--models <ids>', 'comma-separated model ids (64 hex digits each) the node holds')
      .option('--runner-version <v>', 'worker version major.minor.patch', '0.1.0')
      .option('--stake <amount>', 'stake to lock', '400beryl'),
  ).action((from: string, f: TxFlags & { gpuName: string; gpuVram: string; models: string; runnerVersion: string; stake: string }) =>
    sendMsg(f, from, (address) => ({
      typeUrl: m('MsgJoin'),
      value: {
        address,
        gpuName: f.gpuName,
        gpuVramGb: Number(f.gpuVram),
        runnerVersion: f.runnerVersion,
        modelIds: modelList(f.models),
        stake: uberyl(f.stake),
      },
    })),
  )

  txFlags(
    t.command('add-stake').description('lock more stake').argument('<from>', 'the signing key (name or address)').argument('<amount>', 'e.g. 100beryl'),
  ).action((from: string, amount: string, f: TxFlags) =>
    sendMsg(f, from, (address) => ({ typeUrl: m('MsgAddStake'), value: { address, amount: uberyl(amount) } })),
  )
  txFlags(
    t
      .command('update-models')
      .description('replace the list of models the node holds')
      .argument('<from>', 'the signing key (name or address)')
      .argument('<ids>', 'comma-separated model ids'),
  ).action((from: string, ids: string, f: TxFlags) =>
    sendMsg(f, from, (address) => ({ typeUrl: m('MsgUpdateModels'), value: { address, modelIds: modelList(ids) } })),
  )
  for (const [cmd, msg, what] of [
    ['pause', 'MsgPause', 'take no new tasks (a busy node pauses when its task ends)'],
    ['resume', 'MsgResume', 'take tasks again'],
    ['quit', 'MsgQuit', 'leave: the stake returns after unbonding_period (a busy node leaves when its task ends)'],
  ] as const) {
    txFlags(t.command(cmd).description(what).argument('<from>', 'the signing key (name or address)')).action((from: string, f: TxFlags) =>
      sendMsg(f, from, (address) => ({ typeUrl: m(msg), value: { address } })),
    )
  }

  const q = query.command('staking').description('GPU nodes and staking parameters')
  const svc = 'beryl.staking.v1.Query'
  queryFlags(q.command('node').description('one node by its account address').argument('<address>')).action(async (address: string, f: ClientFlags) => {
    const r = QueryNodeResponse.decode(await moduleQuery(f, svc, 'Node', QueryNodeRequest.encode({ address }).finish()))
    print(f, readable(Node.toJSON(r.node!)), describeNode(r.node!))
  })
  queryFlags(
    q.command('record').description("an operator's node record: earnings, slashes and kick-out, kept after the node is removed").argument('<address>'),
  ).action(async (address: string, f: ClientFlags) => {
    const r = QueryNodeRecordResponse.decode(await moduleQuery(f, svc, 'NodeRecord', QueryNodeRecordRequest.encode({ address }).finish()))
    print(f, readable(NodeRecord.toJSON(r.record!)), describeRecord(r.record!))
  })
  queryFlags(
    q
      .command('slashes')
      .description(
        "slashes with their evidence (the validation group's tasks, score commitments, revealed scores and salts, result hashes), newest first; sha256(score ‖ salt) of each member rechecks its commitment",
      )
      .option('--gpu-node <address>', "only this GPU node's slashes")
      .option('--limit <n>', 'page size (max 1000)', '100')
      .option('--page-key <hex>', "continue from a previous page's next key"),
  ).action(async (f: ClientFlags & { gpuNode?: string; limit: string; pageKey?: string }) => {
    const req = QuerySlashesRequest.fromPartial({
      node: f.gpuNode ?? '',
      limit: Number(f.limit),
      key: f.pageKey ? Buffer.from(f.pageKey, 'hex') : new Uint8Array(),
    })
    const r = QuerySlashesResponse.decode(await moduleQuery(f, svc, 'Slashes', QuerySlashesRequest.encode(req).finish()))
    const next = Buffer.from(r.nextKey).toString('hex')
    const text = (x: SlashRecord) =>
      [
        `${x.node} slashed ${x.amount} uberyl at height ${x.height} (${new Date(Number(x.time) * 1000).toISOString()}): ${x.reason}`,
        `  task ${x.task}`,
        ...x.groupTasks.map(
          (id, i) =>
            `  group ${id}  score ${x.groupScores[i] ?? ''}  result ${x.resultHashes[i] || '-'}` +
            (x.groupCommitments[i] ? `\n    commitment ${x.groupCommitments[i]}  salt ${x.groupSalts[i] || '-'}` : ''),
        ),
      ].join('\n')
    print(
      f,
      { slashes: r.slashes.map((x) => readable(SlashRecord.toJSON(x))), next_key: next },
      (r.slashes.length ? r.slashes.map(text).join('\n\n') : 'no slashes') + (next ? `\n\nmore: --page-key ${next}` : ''),
    )
  })
  queryFlags(
    q
      .command('nodes')
      .description('nodes, in address order')
      .option('--status <status>', `only this status: ${STATUS_NAMES.join(', ')}`)
      .option('--gpu <name>', 'only this GPU name')
      .option('--limit <n>', 'page size (max 1000)', '100')
      .option('--page-key <hex>', "continue from a previous page's next key"),
  ).action(async (f: ClientFlags & { status?: string; gpu?: string; limit: string; pageKey?: string }) => {
    const req = QueryNodesRequest.fromPartial({
      status: f.status ? statusOf(f.status) : 0,
      gpuName: f.gpu ?? '',
      limit: Number(f.limit),
      key: f.pageKey ? Buffer.from(f.pageKey, 'hex') : new Uint8Array(),
    })
    const r = QueryNodesResponse.decode(await moduleQuery(f, svc, 'Nodes', QueryNodesRequest.encode(req).finish()))
    const next = Buffer.from(r.nextKey).toString('hex')
    print(
      f,
      { nodes: r.nodes.map((n) => readable(Node.toJSON(n))), next_key: next },
      (r.nodes.length ? r.nodes.map(describeNode).join('\n\n') : 'no nodes') + (next ? `\n\nmore: --page-key ${next}` : ''),
    )
  })
  queryFlags(q.command('params').description('staking parameters')).action(async (f: ClientFlags) => {
    const r = QueryParamsResponse.decode(await moduleQuery(f, svc, 'Params', QueryParamsRequest.encode({}).finish()))
    const p = r.params!
    print(
      f,
      p,
      `min_stake           ${p.minStake} uberyl\nmax_stake           ${p.maxStake} uberyl\nunbonding_period    ${p.unbondingPeriod} s\nslash_fraction      ${p.slashFractionPpm / 10_000}%`,
    )
  })
}
