import { type Command, Option } from 'commander'
import type { RunningNode } from '../chain/node/node.ts'
import { DENOM } from '../modules/index.ts'
import { nodeUrl, print } from './client.ts'
import { initHome } from './init.ts'
import { homeOpt, nodeOpt, outputOpt } from './options.ts'

/** Stops the node on SIGINT/SIGTERM and exits with its reason. */
export async function runUntilSignal(node: RunningNode, log: (m: string) => void): Promise<never> {
  let signals = 0
  const onSignal = (sig: string) => {
    signals++
    if (signals > 1) {
      log('beryld: second signal, exiting now')
      process.exit(130)
    }
    log(`beryld: ${sig} received, stopping CometBFT and the application…`)
    void node.stop(`stopped by ${sig}`)
  }
  process.on('SIGINT', () => onSignal('SIGINT'))
  process.on('SIGTERM', () => onSignal('SIGTERM'))
  const reason = await node.done
  const clean = reason.startsWith('stopped')
  log(`beryld: ${clean ? reason : 'stopped: ' + reason}`)
  process.exit(clean ? 0 : 1)
}

const portOpt = (name: string, def: number) =>
  new Option(`--${name}-port <port>`, `${name} port`).default(def).argParser((v) => {
    const n = Number(v)
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`--${name}-port must be a port number`)
    return n
  })

/** `beryld init`, `beryld start` and `beryld status`: a validator's node. */
export function registerNodeCommands(program: Command): void {
  program
    .command('init')
    .description('create a node home: CometBFT keys and config, the VRF key of vote extensions (config/vrf_key.json), genesis, app.toml')
    .argument('<moniker>', 'a human-readable name for this node')
    .option('--chain-id <id>', 'chain id written to the genesis', 'beryl-devnet-1')
    .option('--overwrite', 'replace an existing configuration (keys and data are kept)')
    .addOption(homeOpt())
    .addOption(portOpt('p2p', 26656))
    .addOption(portOpt('rpc', 26657))
    .addOption(portOpt('abci', 26658))
    .addOption(portOpt('grpc', 9090))
    .addOption(portOpt('api', 1317))
    .addOption(portOpt('gateway', 4001))
    .option('--minimum-gas-prices <price>', 'lowest gas price this node admits into its mempool', `0.025${DENOM}`)
    .option('--listen-host <ip>', 'interface the P2P port and the gateway listen on (RPC and ABCI stay on 127.0.0.1)', '0.0.0.0')
    .option('--rpc-host <ip>', "interface CometBFT's RPC listens on (0.0.0.0 in a container that workers reach)", '127.0.0.1')
    .option(
      '--attester-key <name>',
      "the validator's operator key (in this home's keyring), with which the gateway attests checked outputs ([gateway] attester-key)",
    )
    .addOption(new Option('--gateway-keyring-backend <backend>', 'keyring backend of the attester key').choices(['file', 'test']))
    .addOption(outputOpt())
    .action((moniker: string, o) => {
      initHome({
        attesterKey: o.attesterKey,
        gatewayKeyringBackend: o.gatewayKeyringBackend,
        rpcHost: o.rpcHost,
        home: o.home,
        moniker,
        chainId: o.chainId,
        overwrite: o.overwrite,
        minGasPrice: o.minimumGasPrices,
        p2pHost: o.listenHost,
        ports: { p2p: o.p2pPort, rpc: o.rpcPort, abci: o.abciPort, grpc: o.grpcPort, api: o.apiPort, gateway: o.gatewayPort },
      })
      print(
        o,
        { home: o.home, chain_id: o.chainId, moniker },
        `Initialized node ${moniker} for chain ${o.chainId} in ${o.home}.
Next: fund accounts with \`beryld genesis add-account\`, then \`beryld start --home ${o.home}\`.`,
      )
    })

  program
    .command('start')
    .description('run the node: the ABCI application and CometBFT as a supervised child (Ctrl-C stops both)')
    .addOption(homeOpt())
    .option('--abci-only', 'run only the application; CometBFT is started separately with proxy_app pointing here')
    .action(async (o) => {
      // The node's servers (gRPC, REST, libp2p) load only here: other commands start quickly.
      const { startBerylNode } = await import('./run-node.ts')
      const node = await startBerylNode(o.home, { abciOnly: o.abciOnly })
      await runUntilSignal(node, console.log)
    })

  program
    .command('status')
    .description("show the node's chain id, height, latest block and sync state")
    .addOption(homeOpt())
    .addOption(nodeOpt())
    .addOption(outputOpt())
    .action(async (o) => {
      const url = nodeUrl(o)
      let body: any
      try {
        body = await (await fetch(`${url}/status`, { signal: AbortSignal.timeout(5000) })).json()
      } catch (err) {
        throw new Error(`cannot reach a node at ${url} (${(err as Error).message}); is it running?`)
      }
      const r = body.result
      print(
        o,
        r,
        [
          `chain id        ${r.node_info.network}`,
          `moniker         ${r.node_info.moniker}`,
          `node id         ${r.node_info.id}`,
          `latest height   ${r.sync_info.latest_block_height}`,
          `latest time     ${r.sync_info.latest_block_time}`,
          `app hash        ${r.sync_info.latest_app_hash}`,
          `catching up     ${r.sync_info.catching_up}`,
          `CometBFT        ${r.node_info.version}`,
        ].join('\n'),
      )
    })
}
