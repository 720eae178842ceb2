import type { Command } from 'commander'
import { QuerySamplingRateRequest, QuerySamplingRateResponse } from '../proto/gen/beryl/vss/v1/query.ts'
import { moduleQuery, print, type ClientFlags } from './client.ts'
import { percent, readable } from './format.ts'
import { parseCoins } from './init.ts'
import { queryFlags } from './options.ts'

/** `beryld query vss …`: verifiable secret sampling. */
export function registerVssCommands(query: Command): void {
  queryFlags(
    query
      .command('vss')
      .description('verifiable secret sampling')
      .command('sampling-rate')
      .description("the sampling rate r a fee gets on the current network, the attacker's odds p and expected profit E")
      .requiredOption('--fee <amount>', 'e.g. 10beryl')
      .option('--model <id>', 'count only Available nodes holding this model'),
  ).action(async (f: ClientFlags & { fee: string; model?: string }) => {
    const fee = parseCoins(f.fee)
    if (fee.length !== 1 || fee[0]!.denom !== 'uberyl') throw new Error('--fee takes one amount in uberyl or beryl')
    const r = QuerySamplingRateResponse.decode(
      await moduleQuery(f, 'beryl.vss.v1.Query', 'SamplingRate', QuerySamplingRateRequest.encode({ fee: fee[0]!.amount, modelId: f.model ?? '' }).finish()),
    )
    const text = r.error
      ? `cannot secure this fee: ${r.error}${r.maxSecurableFee ? `\nlargest securable fee: ${r.maxSecurableFee} uberyl` : ''}`
      : `eligible nodes    ${r.eligibleNodes} (assumed dishonest: ${r.dishonestNodes})\nq (an attacker holding the task wins ≥ 1 of the 2 other seats)  ${percent(r.attackerSeatProbability)}\nsampling rate r   ${percent(r.rate)}\nattacker E        ${(Number(BigInt(r.expectedProfit) / 10n ** 30n) / 1e6).toFixed(6)} uberyl (≤ 0)${r.maxSecurableFee ? `\nlargest securable fee  ${r.maxSecurableFee} uberyl` : ''}`
    print(f, readable(r), text)
    if (r.error) process.exitCode = 1
  })
}
