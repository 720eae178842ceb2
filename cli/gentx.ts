import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { SigningStargateClient } from '@cosmjs/stargate'
import type { OfflineDirectSigner } from '@cosmjs/proto-signing'
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import type { Command, Option } from 'commander'
import { BerylApp } from '../chain/app.ts'
import { cometbftShowNodeId } from '../chain/node/cometbft.ts'
import { homePaths, patchCometConfig } from '../chain/node/config.ts'
import { CommittedStore } from '../chain/store/leveldb.ts'
import { BECH32_PREFIX, DENOM, berylModules } from '../modules/index.ts'
import { CREATE_VALIDATOR_URL, verifyGenTx } from '../modules/validator/index.ts'
import { berylRegistry } from '../sdk/registry.ts'
import { keyring, print, type ClientFlags } from './client.ts'
import { parseCoins, type Genesis } from './init.ts'
import { vrfPubkey } from './vrfkey.ts'

interface Opts {
  homeOpt: () => Option
  backendOpt: () => Option
  outputOpt: () => Option
}

/** A gentx file (`<home>/config/gentx/gentx-<node id>.json`). */
export interface GenTxFile {
  chain_id: string
  account: string
  moniker: string
  self_bond: string
  consensus_pubkey: string
  /** `<node id>@<host>:<p2p port>`: collect-gentxs wires every other validator as a persistent peer. */
  peer: string
  /** base64 TxRaw: one MsgCreateValidator signed with account number 0, sequence 0. */
  tx: string
  /** base64 ECVRF public key of the node's config/vrf_key.json (also in the tx). */
  vrf_pubkey?: string
}

/** The ed25519 consensus public key of a node home (CometBFT's priv_validator_key.json). */
export function consensusPubkey(home: string): Uint8Array {
  const file = path.join(homePaths(home).config, 'priv_validator_key.json')
  if (!fs.existsSync(file)) throw new Error(`no ${file}; run \`beryld init\` first`)
  const k = JSON.parse(fs.readFileSync(file, 'utf8')) as { pub_key: { type: string; value: string } }
  if (k.pub_key.type !== 'tendermint/PubKeyEd25519') throw new Error(`${file}: the consensus key must be ed25519, not ${k.pub_key.type}`)
  return Buffer.from(k.pub_key.value, 'base64')
}

const readGenesis = (file: string): Genesis => {
  if (!fs.existsSync(file)) throw new Error(`no genesis at ${file}; run \`beryld init\` first`)
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Genesis
}

/** Signs a MsgCreateValidator as a genesis transaction: account number 0, sequence 0, no fee. */
export async function signGenTx(
  signer: OfflineDirectSigner,
  m: { account: string; moniker: string; details?: string; consensusPubkey: Uint8Array; vrfPubkey: Uint8Array; selfBond: bigint; commissionPpm?: number },
  chainId: string,
  memo = '',
): Promise<string> {
  const client = await SigningStargateClient.offline(signer, { registry: berylRegistry() })
  const msg = {
    typeUrl: CREATE_VALIDATOR_URL,
    value: {
      account: m.account,
      moniker: m.moniker,
      details: m.details ?? '',
      consensusPubkey: m.consensusPubkey,
      vrfPubkey: m.vrfPubkey,
      selfBond: m.selfBond.toString(),
      commissionPpm: m.commissionPpm ?? 0,
    },
  }
  const tx = await client.sign(m.account, [msg], { amount: [], gas: '200000' }, memo, { accountNumber: 0n, sequence: 0, chainId })
  return Buffer.from(TxRaw.encode(tx).finish()).toString('base64')
}

/** Writes `<home>/config/gentx/gentx-<node id>.json` for the key `from` (funded in this home's genesis). */
export async function writeGenTx(
  home: string,
  signer: OfflineDirectSigner,
  o: { moniker: string; amount: bigint; details?: string; commissionPpm?: number; host?: string; p2pPort?: number },
): Promise<{ file: string; gentx: GenTxFile }> {
  const g = readGenesis(homePaths(home).genesis)
  const [acc] = await signer.getAccounts()
  const account = acc!.address
  const funded = g.app_state.bank.balances.find((b) => b.address === account)?.coins.find((c) => c.denom === DENOM)
  if (!funded || BigInt(funded.amount) < o.amount) {
    throw new Error(
      `${account} has ${funded?.amount ?? 0}${DENOM} in this genesis, less than the self-bond ${o.amount}${DENOM}; run \`beryld genesis add-account\` first`,
    )
  }
  const nodeId = cometbftShowNodeId(home)
  const laddr = /tcp:\/\/([^:]+):(\d+)/.exec(fs.readFileSync(homePaths(home).configToml, 'utf8').match(/^\[p2p\][\s\S]*?^laddr = "([^"]+)"/m)?.[1] ?? '')
  const host = o.host ?? (laddr && laddr[1] !== '0.0.0.0' ? laddr[1]! : '127.0.0.1')
  const peer = `${nodeId}@${host}:${o.p2pPort ?? (laddr ? Number(laddr[2]) : 26656)}`
  const pubkey = consensusPubkey(home)
  const vrf = vrfPubkey(home)
  const tx = await signGenTx(
    signer,
    { account, moniker: o.moniker, details: o.details, consensusPubkey: pubkey, vrfPubkey: vrf, selfBond: o.amount, commissionPpm: o.commissionPpm },
    g.chain_id,
    peer,
  )
  const gentx: GenTxFile = {
    chain_id: g.chain_id,
    account,
    moniker: o.moniker,
    self_bond: o.amount.toString(),
    consensus_pubkey: Buffer.from(pubkey).toString('base64'),
    peer,
    tx,
    vrf_pubkey: Buffer.from(vrf).toString('base64'),
  }
  const dir = path.join(homePaths(home).config, 'gentx')
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, `gentx-${nodeId}.json`)
  fs.writeFileSync(file, JSON.stringify(gentx, null, 2) + '\n')
  return { file, gentx }
}

/**
 * Puts every gentx of `dir` into the genesis (`app_state.validator.gen_txs`, sorted by account),
 * empties genesis.json's validators (InitChain sets them from the gentxs), turns vote extensions on
 * (consensus param `abci.vote_extensions_enable_height`, default 1: the chain seed from the validators'
 * VRFs, docs/decisions/0022; 0 keeps them off) and makes every other gentx's node a persistent peer of this home.
 */
export function collectGenTxs(
  home: string,
  dir = path.join(homePaths(home).config, 'gentx'),
  opts: { voteExtensionsEnableHeight?: bigint } = {},
): { count: number; peers: string[]; voteExtensionsEnableHeight: bigint } {
  const file = homePaths(home).genesis
  const g = readGenesis(file)
  if (!fs.existsSync(dir)) throw new Error(`no gentx folder ${dir}`)
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
  const gentxs = files.map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as GenTxFile)
  if (gentxs.length === 0) throw new Error(`no gentx in ${dir}`)
  const seenKeys = new Set<string>()
  for (const [i, x] of gentxs.entries()) {
    if (x.chain_id !== g.chain_id) throw new Error(`${files[i]}: made for chain ${x.chain_id}, this genesis is ${g.chain_id}`)
    const m = verifyGenTx(Buffer.from(x.tx, 'base64'), g.chain_id)
    if (m.vrfPubkey.length !== 32) throw new Error(`${files[i]}: the gentx registers no VRF key; sign it again with this version's \`beryld genesis gentx\``)
    const key = Buffer.from(m.consensusPubkey).toString('hex')
    if (seenKeys.has(key)) throw new Error(`${files[i]}: consensus key used by two gentxs`)
    seenKeys.add(key)
  }
  gentxs.sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0))
  const state = (g.app_state.validator ?? {}) as Record<string, unknown>
  g.app_state.validator = { ...state, gen_txs: gentxs.map((x) => x.tx) }
  g.validators = []
  const ve = opts.voteExtensionsEnableHeight ?? 1n
  if (ve < 0n) throw new Error('the vote-extension enable height must be 0 (off) or a height')
  g.consensus_params.abci = { ...((g.consensus_params.abci ?? {}) as object), vote_extensions_enable_height: ve.toString() }
  fs.writeFileSync(file, JSON.stringify(g, null, 2) + '\n')
  const own = cometbftShowNodeId(home)
  const peers = gentxs.map((x) => x.peer).filter((p) => p && !p.startsWith(`${own}@`))
  patchCometConfig(homePaths(home).configToml, [['p2p', 'persistent_peers', peers.join(',')]])
  return { count: gentxs.length, peers, voteExtensionsEnableHeight: ve }
}

/**
 * Checks a genesis file the way the chain will read it: every module's genesis runs on a
 * throwaway store (gentx signatures, balances against self-bonds, params), and the chain must
 * start with at least one validator.
 */
export async function validateGenesis(file: string): Promise<{ chainId: string; validators: number; accounts: number }> {
  const g = readGenesis(file)
  if (!g.chain_id) throw new Error('genesis has no chain_id')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-validate-'))
  const store = await CommittedStore.open(path.join(dir, 'application.db'))
  try {
    const { modules, ante } = berylModules()
    const app = new BerylApp(store, { modules, ante, bech32Prefix: BECH32_PREFIX, feeDenom: DENOM })
    const time = Date.parse(g.genesis_time)
    const res = await app.initChain({
      time: { seconds: BigInt(Math.floor((Number.isNaN(time) ? 0 : time) / 1000)), nanos: 0 },
      chainId: g.chain_id,
      consensusParams: {
        block: { maxBytes: BigInt(g.consensus_params.block.max_bytes), maxGas: BigInt(g.consensus_params.block.max_gas) },
        abci: {
          voteExtensionsEnableHeight: BigInt((g.consensus_params.abci as { vote_extensions_enable_height?: string })?.vote_extensions_enable_height ?? '0'),
        },
      } as never,
      validators: [],
      appStateBytes: Buffer.from(JSON.stringify(g.app_state ?? {})),
      initialHeight: BigInt(g.initial_height || '1'),
    })
    const validators = res.validators?.length || (g.validators ?? []).length
    if (validators === 0) throw new Error("no validator: add gentxs (`beryld genesis gentx`, then `collect-gentxs`) or keep genesis.json's validator")
    return { chainId: g.chain_id, validators, accounts: g.app_state.auth.accounts.length }
  } finally {
    await store.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** `beryld genesis gentx | collect-gentxs | validate`: the genesis ceremony, as Cosmos operators know it. */
export function registerGenesisCeremonyCommands(genesis: Command, o: Opts): void {
  genesis
    .command('gentx')
    .description(
      "sign a genesis MsgCreateValidator for this node's consensus key, bonding <amount> from <key> (funded in this genesis); writes <home>/config/gentx/gentx-<node id>.json",
    )
    .argument('<key>', "key name or address in the keyring (the validator's operator account)")
    .argument('<amount>', 'self-bond, e.g. 1000beryl (at least the min_self_bond param)')
    .option('--moniker <name>', 'validator name (default: the key name)')
    .option('--details <text>', 'free description')
    .option('--commission-ppm <n>', 'commission in millionths (50000 = 5%)', '0')
    .option('--ip <host>', "address other validators reach this node's P2P port at (default: from config.toml, else 127.0.0.1)")
    .addOption(o.homeOpt())
    .addOption(o.backendOpt())
    .addOption(o.outputOpt())
    .action(async (key: string, amount: string, f: ClientFlags & { moniker?: string; details?: string; commissionPpm: string; ip?: string }) => {
      const coins = parseCoins(amount)
      if (coins.length !== 1 || coins[0]!.denom !== DENOM) throw new Error(`${amount}: give one amount in uberyl or beryl`)
      const signer = await keyring(f).wallet(key)
      const { file, gentx } = await writeGenTx(f.home, signer, {
        moniker: f.moniker ?? key,
        amount: BigInt(coins[0]!.amount),
        details: f.details,
        commissionPpm: Number(f.commissionPpm),
        host: f.ip,
      })
      print(
        f,
        { file, ...gentx },
        `wrote ${file}\nvalidator ${gentx.moniker} (${gentx.account}) bonds ${gentx.self_bond}${DENOM}; peer ${gentx.peer}\nSend this file to the coordinator, who runs \`beryld genesis collect-gentxs\`.`,
      )
    })
  genesis
    .command('collect-gentxs')
    .description(
      "put every gentx of <home>/config/gentx (or --gentx-dir) into the genesis, turn vote extensions on (the chain seed from the validators' VRFs) and make their nodes persistent peers",
    )
    .option('--gentx-dir <dir>', 'folder of gentx-*.json files')
    .option(
      '--vote-extensions-enable-height <h>',
      "consensus param abci.vote_extensions_enable_height: from the block after it, every block carries >2/3 of the validators' VRF proofs and the chain seed comes from them (0 = off: a seed anyone can predict)",
      '1',
    )
    .addOption(o.homeOpt())
    .addOption(o.outputOpt())
    .action((f: ClientFlags & { gentxDir?: string; voteExtensionsEnableHeight: string }) => {
      if (!/^\d{1,18}$/.test(f.voteExtensionsEnableHeight)) throw new Error('--vote-extensions-enable-height must be a whole number (0 = off)')
      const r = collectGenTxs(f.home, f.gentxDir, { voteExtensionsEnableHeight: BigInt(f.voteExtensionsEnableHeight) })
      print(
        f,
        { ...r, voteExtensionsEnableHeight: r.voteExtensionsEnableHeight.toString() },
        `collected ${r.count} gentx(s) into ${homePaths(f.home).genesis}; persistent peers: ${r.peers.join(', ') || '(none)'}; vote extensions from height ${r.voteExtensionsEnableHeight || 'never (off)'}\nCopy this genesis.json to every validator, then \`beryld genesis validate\` and \`beryld start\`.`,
      )
    })
  genesis
    .command('validate')
    .description("check a genesis file as the chain will read it (every module's genesis, gentx signatures, at least one validator)")
    .argument('[file]', 'genesis file (default: <home>/config/genesis.json)')
    .addOption(o.homeOpt())
    .addOption(o.outputOpt())
    .action(async (file: string | undefined, f: ClientFlags) => {
      const target = file ?? homePaths(f.home).genesis
      const r = await validateGenesis(target)
      print(f, r, `${target} is valid: chain ${r.chainId}, ${r.validators} validator(s), ${r.accounts} account(s)`)
    })
}
