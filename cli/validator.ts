import type { Command, Option } from 'commander'
import {
  QueryActiveSetRequest,
  QueryActiveSetResponse,
  QueryParamsRequest,
  QueryParamsResponse,
  QueryPoolsRequest,
  QueryPoolsResponse,
  QueryRewardsRequest,
  QueryRewardsResponse,
  QueryValidatorRequest,
  QueryValidatorResponse,
  QueryValidatorsRequest,
  QueryValidatorsResponse,
} from '../proto/gen/beryl/validator/v1/query.ts'
import { Validator } from '../proto/gen/beryl/validator/v1/types.ts'
import { moduleQuery, print, sendMsg, type ClientFlags, type TxFlags } from './client.ts'
import { consensusPubkey } from './gentx.ts'
import { vrfPubkey } from './vrfkey.ts'
import { parseCoins } from './init.ts'

interface Opts {
  txFlags: (c: Command) => Command
  homeOpt: () => Option
  nodeOpt: () => Option
  outputOpt: () => Option
}

const uberyl = (s: string): string => {
  const c = parseCoins(s)
  if (c.length !== 1 || c[0]!.denom !== 'uberyl') throw new Error(`${s}: give one amount in uberyl or beryl`)
  return c[0]!.amount
}
const ppm = (s: string): number => {
  const n = Number(s)
  if (!Number.isInteger(n) || n < 0 || n > 1_000_000) throw new Error('--commission-ppm must be 0..1000000')
  return n
}
const iso = (s: bigint) => new Date(Number(s) * 1000).toISOString()

function describe(v: Validator, extra: string[] = []): string {
  return [
    `operator         ${v.operatorAddress}`,
    `account          ${v.account}`,
    `moniker          ${v.moniker}${v.details ? ` (${v.details})` : ''}`,
    `consensus key    ${Buffer.from(v.consensusPubkey).toString('base64')}`,
    `VRF key          ${v.vrfPubkey.length ? Buffer.from(v.vrfPubkey).toString('base64') : '(none)'}`,
    `bonded           ${v.bonded} uberyl (power ${BigInt(v.bonded) / 1_000_000n})`,
    `commission       ${v.commissionPpm / 10_000}%`,
    `status           ${v.tombstoned ? 'tombstoned (double signed)' : v.jailed ? `jailed until ${iso(v.jailedUntil)}` : 'ok'}`,
    `rewards          ${v.rewards} uberyl`,
    `slashed          ${v.slashed} uberyl`,
    ...extra,
  ].join('\n')
}

/** `beryld tx validator …` and `beryld query validator …`: the bonded validator set. */
export function registerValidatorCommands(program: Command, o: Opts): void {
  const tx = program.commands.find((c) => c.name() === 'tx')!
  const query = program.commands.find((c) => c.name() === 'query')!
  const t = tx.command('validator').description('the validator set: create, edit, bond, unbond, unjail, withdraw-rewards')
  const m = (name: string) => `/beryl.validator.v1.${name}`

  o.txFlags(
    t
      .command('create')
      .description("make the key's account a validator with this node's consensus key (or --pubkey), bonding at least min_self_bond (1000 BERYL)")
      .argument('<from>', 'key name or address in the keyring (the operator account)')
      .argument('<amount>', 'self-bond, e.g. 1000beryl')
      .requiredOption('--moniker <name>', 'validator name')
      .option('--details <text>', 'free description', '')
      .option('--commission-ppm <n>', 'commission in millionths (50000 = 5%)', '0')
      .option('--pubkey <base64>', 'ed25519 consensus public key (default: <home>/config/priv_validator_key.json)')
      .option('--vrf-pubkey <base64>', "ECVRF public key its vote extensions prove with (default: <home>/config/vrf_key.json's; the chain seed)"),
  ).action((from: string, amount: string, f: TxFlags & { moniker: string; details: string; commissionPpm: string; pubkey?: string; vrfPubkey?: string }) => {
    const key = f.pubkey ? Buffer.from(f.pubkey, 'base64') : consensusPubkey(f.home)
    const vrf = f.vrfPubkey ? Buffer.from(f.vrfPubkey, 'base64') : vrfPubkey(f.home)
    return sendMsg(f, from, (account) => ({
      typeUrl: m('MsgCreateValidator'),
      value: {
        account,
        moniker: f.moniker,
        details: f.details,
        consensusPubkey: key,
        vrfPubkey: vrf,
        selfBond: uberyl(amount),
        commissionPpm: ppm(f.commissionPpm),
      },
    }))
  })
  o.txFlags(
    t
      .command('edit')
      .description('change the moniker, details or commission')
      .argument('<from>', 'the operator key')
      .option('--moniker <name>', 'new name')
      .option('--details <text>', 'new description')
      .option('--commission-ppm <n>', 'new commission in millionths'),
  ).action((from: string, f: TxFlags & { moniker?: string; details?: string; commissionPpm?: string }) =>
    sendMsg(f, from, (account) => ({
      typeUrl: m('MsgEditValidator'),
      value: { account, moniker: f.moniker ?? '', details: f.details ?? '', commissionPpm: f.commissionPpm === undefined ? undefined : ppm(f.commissionPpm) },
    })),
  )
  o.txFlags(t.command('bond').description('add to the self-bond').argument('<from>', 'the operator key').argument('<amount>', 'e.g. 500beryl')).action(
    (from: string, amount: string, f: TxFlags) => sendMsg(f, from, (account) => ({ typeUrl: m('MsgBond'), value: { account, amount: uberyl(amount) } })),
  )
  o.txFlags(
    t
      .command('unbond')
      .description('start returning part of the self-bond (after unbonding_period; below min_self_bond the validator leaves the set)')
      .argument('<from>', 'the operator key')
      .argument('<amount>', 'e.g. 500beryl'),
  ).action((from: string, amount: string, f: TxFlags) =>
    sendMsg(f, from, (account) => ({ typeUrl: m('MsgUnbond'), value: { account, amount: uberyl(amount) } })),
  )
  o.txFlags(t.command('unjail').description('return to the set after a downtime jail period').argument('<from>', 'the operator key')).action(
    (from: string, f: TxFlags) => sendMsg(f, from, (account) => ({ typeUrl: m('MsgUnjail'), value: { account } })),
  )
  o.txFlags(t.command('withdraw-rewards').description("pay the validator's fee rewards to its operator account").argument('<from>', 'the operator key')).action(
    (from: string, f: TxFlags) => sendMsg(f, from, (account) => ({ typeUrl: m('MsgWithdrawRewards'), value: { account } })),
  )

  const q = query.command('validator').description('validators, the active set, rewards and pools')
  const svc = 'beryl.validator.v1.Query'
  const flags = (c: Command) => c.addOption(o.homeOpt()).addOption(o.nodeOpt()).addOption(o.outputOpt())
  flags(
    q
      .command('list')
      .description('every validator, in account order')
      .option('--limit <n>', 'page size (max 1000)', '100')
      .option('--page-key <hex>', 'continue from a previous page'),
  ).action(async (f: ClientFlags & { limit: string; pageKey?: string }) => {
    const r = QueryValidatorsResponse.decode(
      await moduleQuery(
        f,
        svc,
        'Validators',
        QueryValidatorsRequest.encode({ limit: Number(f.limit), key: f.pageKey ? Buffer.from(f.pageKey, 'hex') : new Uint8Array() }).finish(),
      ),
    )
    const set = QueryActiveSetResponse.decode(await moduleQuery(f, svc, 'ActiveSet', QueryActiveSetRequest.encode({}).finish()))
    const active = new Set(set.validators.map((v) => v.account))
    const next = Buffer.from(r.nextKey).toString('hex')
    print(
      f,
      { validators: r.validators.map((v) => ({ ...(Validator.toJSON(v) as object), active: active.has(v.account) })), next_key: next },
      (r.validators.length ? r.validators.map((v) => describe(v, [`active           ${active.has(v.account)}`])).join('\n\n') : 'no validators') +
        (next ? `\n\nmore: --page-key ${next}` : ''),
    )
  })
  flags(
    q.command('show').description('one validator: bond, power, jail, liveness, unbonding entries').argument('<address>', 'beryl1… or berylvaloper1…'),
  ).action(async (address: string, f: ClientFlags) => {
    const r = QueryValidatorResponse.decode(await moduleQuery(f, svc, 'Validator', QueryValidatorRequest.encode({ address }).finish()))
    print(
      f,
      QueryValidatorResponse.toJSON(r),
      describe(r.validator!, [
        `active           ${r.active} (power ${r.power})`,
        `liveness         ${r.signingInfo ? `${r.signingInfo.missedBlocks} missed in the window, counted since height ${r.signingInfo.startHeight}` : '-'}`,
        ...r.unbonding.map((e) => `unbonding        ${e.amount} uberyl, returns ${iso(e.completionTime)}`),
      ]),
    )
  })
  flags(q.command('rewards').description("a validator's fee rewards not yet withdrawn").argument('<address>', 'beryl1… or berylvaloper1…')).action(
    async (address: string, f: ClientFlags) => {
      const r = QueryRewardsResponse.decode(await moduleQuery(f, svc, 'Rewards', QueryRewardsRequest.encode({ address }).finish()))
      print(f, r, `${r.rewards} uberyl`)
    },
  )
  flags(q.command('set').description('the active set CometBFT runs, with powers')).action(async (f: ClientFlags) => {
    const r = QueryActiveSetResponse.decode(await moduleQuery(f, svc, 'ActiveSet', QueryActiveSetRequest.encode({}).finish()))
    print(f, QueryActiveSetResponse.toJSON(r), r.validators.map((v) => `${v.account}  power ${v.power}`).join('\n') + `\ntotal power ${r.totalPower}`)
  })
  flags(q.command('pools').description("the community pool, the fee collector's remainder, unpaid rewards and bonded stake")).action(async (f: ClientFlags) => {
    const r = QueryPoolsResponse.decode(await moduleQuery(f, svc, 'Pools', QueryPoolsRequest.encode({}).finish()))
    print(
      f,
      r,
      `community pool       ${r.communityPool} uberyl\nfee collector        ${r.feeCollector} uberyl\noutstanding rewards  ${r.outstandingRewards} uberyl\nbonded + unbonding   ${r.bonded} uberyl`,
    )
  })
  flags(q.command('params').description('validator parameters')).action(async (f: ClientFlags) => {
    const p = QueryParamsResponse.decode(await moduleQuery(f, svc, 'Params', QueryParamsRequest.encode({}).finish())).params!
    print(
      f,
      p,
      Object.entries(p)
        .map(([k, v]) => `${k.padEnd(22)} ${v}`)
        .join('\n'),
    )
  })
}
