import type { Command } from 'commander'
import { QueryNodeQosRequest, QueryNodeQosResponse } from '../proto/gen/beryl/qos/v1/query.ts'
import { NodeQos } from '../proto/gen/beryl/qos/v1/types.ts'
import { moduleQuery, print, type ClientFlags } from './client.ts'
import { fixed4, fixedToDecimal, readable } from './format.ts'
import { queryFlags } from './options.ts'

/** `beryld query qos …`: GPU nodes' quality of service. */
export function registerQosCommands(query: Command): void {
  queryFlags(
    query
      .command('qos')
      .description('quality of service of GPU nodes')
      .command('node')
      .description("a node's scores, health and exclusion")
      .argument('<address>'),
  ).action(async (address: string, f: ClientFlags) => {
    const r = QueryNodeQosResponse.decode(await moduleQuery(f, 'beryl.qos.v1.Query', 'NodeQos', QueryNodeQosRequest.encode({ node: address }).finish()))
    print(
      f,
      { ...(readable(NodeQos.toJSON(r.qos!)) as object), q_long: fixedToDecimal(r.qLong), health: fixedToDecimal(r.health), qos: fixedToDecimal(r.qosValue) },
      `node        ${address}\nsamples     ${r.qos!.scores.length} (last: ${r.qos!.scores.slice(-10).join(' ') || '-'})\nQ_long      ${fixed4(r.qLong)}\nhealth      ${fixed4(r.health)}${r.qos!.excluded ? `  (excluded until ${new Date(Number(r.qos!.excludedUntil) * 1000).toISOString()})` : ''}\nQoS         ${fixed4(r.qosValue)}`,
    )
  })
}
