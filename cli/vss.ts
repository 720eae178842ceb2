import type { Command } from 'commander'
import { QuerySamplingRateRequest, QuerySamplingRateResponse, QuerySeedRequest, QuerySeedResponse } from '../proto/gen/beryl/vss/v1/query.ts'
import { moduleQuery, print, type ClientFlags } from './client.ts'
import { percent, readable } from './format.ts'
import { parseCoins } from './init.ts'
import { queryFlags } from './options.ts'

/** `beryld query vss …`: verifiable secret sampling. */
export function registerVssCommands(query: Command): void {
  const vss = query.command('vss').description("verifiable secret sampling and the chain seed (validators' VRFs)")
  queryFlags(
    vss
      .command('seed')
      .description(
        'the chain seed of a block (default: the latest): sha256(previous seed ‖ the sorted VRF outputs of the >2/3-power vote extensions the block carries), or before the vote-extension enable height sha256(previous seed ‖ height)',
      )
      .argument('[height]', 'block height (the last 100000 are kept)'),
  ).action(async (height: string | undefined, f: ClientFlags) => {
    if (height !== undefined && !/^\d{1,18}$/.test(height)) throw new Error('height must be a whole number')
    const r = QuerySeedResponse.decode(await moduleQuery(f, 'beryl.vss.v1.Query', 'Seed', QuerySeedRequest.encode({ height: BigInt(height ?? '0') }).finish()))
    const s = r.seed!
    const out = { height: s.height.toString(), seed: Buffer.from(s.seed).toString('hex'), contributors: s.contributors }
    print(
      f,
      out,
      `height        ${out.height}\nseed          ${out.seed}\ncontributors  ${s.contributors ? `${s.contributors} VRF outputs` : '0 (fallback rule: predictable)'}`,
    )
  })
  queryFlags(
    vss
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
