import { pathToFileURL } from 'node:url'
import { Command, Option } from 'commander'
import { DEFAULT_HOME } from '../chain/node/config.ts'
import { COMETBFT_VERSION } from '../chain/node/cometbft.ts'
import { SOFTWARE_VERSION } from '../chain/app.ts'
import { DENOM } from '../modules/index.ts'
import { feeArg, keyring, nodeUrl, print, queryClient, signingClient, type ClientFlags, type TxFlags } from './client.ts'
import { registerStakingCommands } from './staking.ts'
import { registerTaskCommands } from './task.ts'
import { registerTaskViewCommands } from './task-view.ts'
import { registerTaskRunCommands } from './task-run.ts'
import { registerWorkerCommands } from './worker.ts'
import { registerApiCommand } from './api.ts'
import { runDevnet } from './devnet.ts'
import { addGenesisAccount, initHome, parseCoins } from './init.ts'
import { Keyring, readStdin } from './keyring.ts'
import { runUntilSignal, startBerylNode } from './node.ts'

const program = new Command()
program
  .name('beryld')
  .description('Beryl: an app-chain for verifiable, decentralized AI compute.\nRun a validator (init, start), manage keys, send transactions and query the chain.')
  .version(`${SOFTWARE_VERSION} (CometBFT ${COMETBFT_VERSION})`)
  .showHelpAfterError('(run with --help for usage)')

const homeOpt = () => new Option('--home <dir>', 'node home folder (config/, data/, keyrings)').default(process.env.BERYL_HOME ?? DEFAULT_HOME)
const outputOpt = () => new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text')
const nodeOpt = () => new Option('--node <url>', 'CometBFT RPC of a Beryl node (default: the node of --home, else http://127.0.0.1:26657)')
const backendOpt = () => new Option('--keyring-backend <backend>', '"file" (encrypted; passphrase from BERYL_KEYRING_PASSPHRASE or a prompt) or "test" (plain, devnets only)').choices(['file', 'test']).default('file')
const intIn = (min: number, max: number, flag: string) => (v: string) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} must be ${min === max ? min : `${min}..${max}`}`)
  return n
}
const portOpt = (name: string, def: number) => new Option(`--${name}-port <port>`, `${name} port`).default(def).argParser((v) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`--${name}-port must be a port number`)
  return n
})

// ---- init / start / status -------------------------------------------------------------------

program.command('init')
  .description('create a node home: CometBFT keys and config, genesis, app.toml')
  .argument('<moniker>', 'a human-readable name for this node')
  .option('--chain-id <id>', 'chain id written to the genesis', 'beryl-devnet-1')
  .option('--overwrite', 'replace an existing configuration (keys and data are kept)')
  .addOption(homeOpt())
  .addOption(portOpt('p2p', 26656)).addOption(portOpt('rpc', 26657)).addOption(portOpt('abci', 26658))
  .addOption(portOpt('grpc', 9090)).addOption(portOpt('api', 1317)).addOption(portOpt('gateway', 4001))
  .option('--minimum-gas-prices <price>', 'lowest gas price this node admits into its mempool', `0.025${DENOM}`)
  .option('--listen-host <ip>', 'interface the P2P port and the gateway listen on (RPC and ABCI stay on 127.0.0.1)', '0.0.0.0')
  .addOption(outputOpt())
  .action((moniker: string, o) => {
    initHome({
      home: o.home, moniker, chainId: o.chainId, overwrite: o.overwrite, minGasPrice: o.minimumGasPrices, p2pHost: o.listenHost,
      ports: { p2p: o.p2pPort, rpc: o.rpcPort, abci: o.abciPort, grpc: o.grpcPort, api: o.apiPort, gateway: o.gatewayPort },
    })
    print(o, { home: o.home, chain_id: o.chainId, moniker }, `Initialized node ${moniker} for chain ${o.chainId} in ${o.home}.
Next: fund accounts with \`beryld genesis add-account\`, then \`beryld start --home ${o.home}\`.`)
  })

program.command('start')
  .description('run the node: the ABCI application and CometBFT as a supervised child (Ctrl-C stops both)')
  .addOption(homeOpt())
  .option('--abci-only', 'run only the application; CometBFT is started separately with proxy_app pointing here')
  .action(async (o) => {
    const node = await startBerylNode(o.home, { abciOnly: o.abciOnly })
    await runUntilSignal(node, console.log)
  })

program.command('status')
  .description('show the node\'s chain id, height, latest block and sync state')
  .addOption(homeOpt()).addOption(nodeOpt()).addOption(outputOpt())
  .action(async (o) => {
    const url = nodeUrl(o)
    let body: any
    try {
      body = await (await fetch(`${url}/status`, { signal: AbortSignal.timeout(5000) })).json()
    } catch (err) {
      throw new Error(`cannot reach a node at ${url} (${(err as Error).message}); is it running?`)
    }
    const r = body.result
    print(o, r, [
      `chain id        ${r.node_info.network}`,
      `moniker         ${r.node_info.moniker}`,
      `node id         ${r.node_info.id}`,
      `latest height   ${r.sync_info.latest_block_height}`,
      `latest time     ${r.sync_info.latest_block_time}`,
      `app hash        ${r.sync_info.latest_app_hash}`,
      `catching up     ${r.sync_info.catching_up}`,
      `CometBFT        ${r.node_info.version}`,
    ].join('\n'))
  })

// ---- keys ------------------------------------------------------------------------------------

const keys = program.command('keys').description('manage the keys in the local keyring (BIP-39 mnemonics, HD path m/44\'/118\'/0\'/0/0)')
keys.command('add').description('create a key (prints its mnemonic once: write it down) or recover one with --recover')
  .argument('<name>')
  .option('--recover', 'read an existing mnemonic from standard input instead of creating one')
  .addOption(homeOpt()).addOption(backendOpt()).addOption(outputOpt())
  .action(async (name: string, o) => {
    const mnemonic = o.recover ? (await readStdin()).trim() : Keyring.generateMnemonic()
    const info = await keyring(o).add(name, mnemonic)
    print(o, { ...info, ...(o.recover ? {} : { mnemonic }) }, `- name: ${info.name}\n  address: ${info.address}\n  pubkey: ${info.pubkey}` +
      (o.recover ? '' : `\n\n**Write this mnemonic down; it is the only way to recover the key:**\n\n${mnemonic}`))
  })
keys.command('list').description('list keys').addOption(homeOpt()).addOption(backendOpt()).addOption(outputOpt())
  .action((o) => {
    const list = keyring(o).list()
    print(o, list, list.length ? list.map((k) => `- name: ${k.name}\n  address: ${k.address}`).join('\n') : `no keys in ${keyring(o).dir}`)
  })
keys.command('show').description('show a key\'s address and public key').argument('<name>')
  .option('-a, --address', 'print only the address')
  .addOption(homeOpt()).addOption(backendOpt()).addOption(outputOpt())
  .action((name: string, o) => {
    const k = keyring(o).show(name)
    if (o.address) console.log(k.address)
    else print(o, k, `- name: ${k.name}\n  address: ${k.address}\n  pubkey: ${k.pubkey}`)
  })
keys.command('delete').description('delete a key from the keyring').argument('<name>')
  .option('-y, --yes', 'skip the confirmation')
  .addOption(homeOpt()).addOption(backendOpt())
  .action((name: string, o) => {
    if (!o.yes) throw new Error('deleting a key cannot be undone; repeat with --yes')
    keyring(o).delete(name)
    console.log(`deleted key ${name}`)
  })
keys.command('export').description('print a key\'s mnemonic (anyone who sees it controls the account)').argument('<name>')
  .option('--unsafe', 'confirm that the mnemonic may be printed')
  .addOption(homeOpt()).addOption(backendOpt()).addOption(outputOpt())
  .action(async (name: string, o) => {
    if (!o.unsafe) throw new Error('exporting prints the secret mnemonic; repeat with --unsafe')
    const mnemonic = await keyring(o).mnemonic(name)
    print(o, { name, mnemonic }, mnemonic)
  })
keys.command('import').description('store a key from a mnemonic read from standard input').argument('<name>')
  .addOption(homeOpt()).addOption(backendOpt()).addOption(outputOpt())
  .action(async (name: string, o) => {
    const info = await keyring(o).add(name, (await readStdin()).trim())
    print(o, info, `- name: ${info.name}\n  address: ${info.address}`)
  })

// ---- genesis ---------------------------------------------------------------------------------

const genesis = program.command('genesis').description('edit the genesis file before the chain starts')
genesis.command('add-account').description('fund an account in genesis')
  .argument('<address-or-key>', 'a beryl1… address, or the name of a key in the keyring')
  .argument('<coins>', 'e.g. 1000000uberyl or 10beryl (comma-separated for several denoms)')
  .addOption(homeOpt()).addOption(backendOpt())
  .action((who: string, coins: string, o) => {
    const address = who.startsWith('beryl1') ? who : keyring(o).show(who).address
    addGenesisAccount(o.home, address, parseCoins(coins))
    console.log(`added ${address} with ${coins} to ${o.home}/config/genesis.json`)
  })

// ---- tx / query ------------------------------------------------------------------------------

const txFlags = (c: Command) => c.addOption(homeOpt()).addOption(nodeOpt()).addOption(backendOpt()).addOption(outputOpt())
  .option('--fees <coins>', `fee to pay, e.g. 5000${DENOM} (overrides --gas-prices)`)
  .option('--gas <gas>', '"auto" (simulate, then × --gas-adjustment) or a gas limit', 'auto')
  .option('--gas-prices <price>', 'price per unit of gas', `0.025${DENOM}`)
  .option('--gas-adjustment <factor>', 'multiplier on the simulated gas', '1.4')
  .option('--memo <text>', 'memo (at most 256 characters)')

const tx = program.command('tx').description('sign and broadcast transactions (waits until included in a block)')
const txBank = tx.command('bank').description('bank transactions')
txFlags(txBank.command('send').description('send coins from a key to an address')
  .argument('<from>', 'key name or address in the keyring')
  .argument('<to>', 'recipient beryl1… address')
  .argument('<amount>', 'e.g. 1000uberyl or 1.5beryl'))
  .action(async (from: string, to: string, amount: string, o: TxFlags) => {
    const { client, address } = await signingClient(o, from)
    try {
      const res = await client.sendTokens(address, to, parseCoins(amount), feeArg(o), o.memo)
      const out = { txhash: res.transactionHash, height: res.height, code: res.code, gas_wanted: res.gasWanted, gas_used: res.gasUsed, raw_log: res.rawLog ?? '' }
      print(o, out, `txhash: ${out.txhash}\nheight: ${out.height}\ncode: ${out.code}${out.code ? `\nlog: ${out.raw_log}` : ''}\ngas: ${out.gas_used} used of ${out.gas_wanted}`)
      if (res.code !== 0) process.exitCode = 1
    } finally {
      client.disconnect()
    }
  })

const query = program.command('query').alias('q').description('query chain state')
const qAuth = query.command('auth').description('accounts')
qAuth.command('account').description('an account\'s number, sequence and public key').argument('<address>')
  .addOption(homeOpt()).addOption(nodeOpt()).addOption(outputOpt())
  .action(async (address: string, o: ClientFlags) => {
    const c = await queryClient(o)
    try {
      const acc = await c.getAccount(address)
      if (!acc) { print(o, null, `account ${address} not found (it has never received funds)`); process.exitCode = 1; return }
      print(o, acc, `address: ${acc.address}\naccount_number: ${acc.accountNumber}\nsequence: ${acc.sequence}\npubkey: ${acc.pubkey ? acc.pubkey.value : '(not set: the account has not sent a transaction)'}`)
    } finally { c.disconnect() }
  })
const qBank = query.command('bank').description('balances')
qBank.command('balances').description('an address\'s balances').argument('<address>')
  .option('--denom <denom>', 'only this denom')
  .addOption(homeOpt()).addOption(nodeOpt()).addOption(outputOpt())
  .action(async (address: string, o: ClientFlags & { denom?: string }) => {
    const c = await queryClient(o)
    try {
      const balances = o.denom ? [await c.getBalance(address, o.denom)] : await c.getAllBalances(address)
      print(o, { balances }, balances.length ? balances.map((b) => `${b.amount} ${b.denom}`).join('\n') : 'no balances')
    } finally { c.disconnect() }
  })

registerStakingCommands(tx, query, { txFlags, homeOpt, nodeOpt, outputOpt })
registerTaskCommands(tx, query, { txFlags, homeOpt, nodeOpt, outputOpt })
registerWorkerCommands(program, { outputOpt })
registerApiCommand(program, { homeOpt, outputOpt })

const taskCmd = program.command('task').description('run tasks and follow them: run, show, list, cancel')
registerTaskViewCommands(taskCmd, { txFlags, homeOpt, nodeOpt, outputOpt })
registerTaskRunCommands(taskCmd, { homeOpt, nodeOpt, outputOpt })

// ---- devnet ----------------------------------------------------------------------------------

program.command('devnet')
  .description('run a local network: one validator with its gateway, funded accounts and GPU workers on the bundled models (Ctrl-C stops it)')
  .option('--home <dir>', 'devnet home (default: a fresh temporary folder); reused if it already holds a devnet')
  .option('--reset', 'delete the home first and start a new chain')
  .option('--accounts <n>', 'funded accounts to create', intIn(1, 100, '--accounts'), 3)
  .option('--workers <n>', 'GPU workers to run (in this process, on the bundled models)', intIn(0, 200, '--workers'), 3)
  .option('--validators <n>', 'validators (only 1 until the multi-validator work lands)', intIn(1, 1, '--validators'), 1)
  .option('--sample-all', 'cross-validate every task (min_sampling_rate = 1), for demos and tests')
  .option('--no-smollm2', 'do not give the workers the SmolLM2 chat model (they serve it by default once `npm run setup` fetched it)')
  .option('--api [port]', 'also serve the OpenAI-compatible API (beryld api) on this port (default 8080; 0 picks a free one), with a key for account1')
  .option('--demo', 'run a demo image task and ask SmolLM2 a question once the workers are up (the PNG goes into <home>/demo/)')
  .option('--exit-after-demo', 'stop after the demo (exit code 1 if it failed)')
  .option('--quiet', 'print only the summary and the demo, not the node\'s and workers\' logs')
  .option('--random-ports', 'use free random ports instead of the standard ones')
  .option('--chain-id <id>', 'chain id', 'beryl-devnet-1')
  .addOption(outputOpt())
  .action(async (o) => {
    await runDevnet({
      home: o.home, reset: o.reset, accounts: o.accounts, workers: o.workers, validators: o.validators, sampleAll: o.sampleAll, smollm2: o.smollm2,
      api: o.api === undefined ? undefined : o.api === true ? 8080 : intIn(0, 65535, '--api')(o.api),
      demo: o.demo || o.exitAfterDemo, exitAfterDemo: o.exitAfterDemo, quiet: o.quiet, randomPorts: o.randomPorts, chainId: o.chainId, output: o.output,
    })
  })

/** The whole command tree, for tools that read it (the docs check); parsing runs only when this is the program. */
export { program }

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  program.parseAsync(process.argv).catch((err: Error) => {
    console.error(`Error: ${err.message}`)
    if (process.env.BERYL_DEBUG) console.error(err.stack)
    process.exit(1)
  })
}

