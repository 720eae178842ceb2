// `beryld gateway …` and the gateway's wiring into `beryld start`: app.toml's [gateway] section and
// the attester's key turned into a running gateway (gateway/service.ts holds the gateway itself).
import os from 'node:os'
import path from 'node:path'
import { type Command, Option } from 'commander'
import type { BerylApp } from '../chain/app.ts'
import { genesisChainId, homePaths, readAppConfig } from '../chain/node/config.ts'
import type { GatewayMetrics } from '../gateway/gateway.ts'
import type { RunningGateway } from '../gateway/service.ts'
import type { BerylModules } from '../modules/index.ts'
import { print } from './client.ts'
import { Keyring, type KeyringBackend } from './keyring.ts'
import { outputOpt } from './options.ts'

/** Starts the node's gateway as app.toml configures it; undefined when [gateway] address is empty. */
export async function startGatewayService(
  home: string,
  o: { app: BerylApp; keepers: BerylModules['keepers']; log: (m: string) => void; metrics?: GatewayMetrics },
): Promise<RunningGateway | undefined> {
  const { log } = o
  const cfg = readAppConfig(home)
  const g = cfg.gateway
  if (!g?.address) {
    log('beryld: gateway off ([gateway] address is empty in app.toml)')
    return undefined
  }
  const paths = homePaths(home)
  const chainId = genesisChainId(home)
  let attester: { signer: Awaited<ReturnType<Keyring['wallet']>>; address: string; gasPrice: string } | undefined
  if (g['attester-key']) {
    const kr = new Keyring(home, (g['keyring-backend'] ?? 'file') as KeyringBackend, async () => {
      const p = process.env.BERYL_KEYRING_PASSPHRASE
      if (!p) throw new Error('the attester key is in the file keyring: set BERYL_KEYRING_PASSPHRASE')
      return p
    })
    const signer = await kr.wallet(g['attester-key'])
    const [acc] = await signer.getAccounts()
    attester = { signer, address: acc!.address, gasPrice: cfg['minimum-gas-prices'] || '0.025uberyl' }
  }
  let gateway: RunningGateway
  try {
    // libp2p loads only here, so commands that do not run a gateway start quickly.
    const { startBerylGateway } = await import('../gateway/service.ts')
    gateway = await startBerylGateway({
      app: o.app,
      keepers: o.keepers,
      chainId,
      listen: [g.address],
      keyFile: paths.gatewayKey,
      resultDir: paths.results,
      cometRpc: cfg.cometbft.rpc,
      attester,
      resultTtlMs: (g['result-ttl-hours'] ?? 24) * 3600_000,
      connectionsPerHostPerSecond: g['connections-per-host-per-second'],
      peers: g.peers ?? [],
      log,
      metrics: o.metrics,
    })
  } catch (err) {
    const m = (err as Error).message
    const why = /listen E[A-Z]+[^\n]*/.exec(m)?.[0] ?? m.split('\n')[0]
    throw new Error(`cannot start the gateway on ${g.address}: ${why} (change [gateway] address in ${paths.appToml}, or set it to "" to turn the gateway off)`)
  }
  log(
    `beryld: gateway listening on ${gateway.gateway.multiaddrs.join(', ')}${attester ? `; attester ${attester.address}` : '; no attester key: outputs are stored, not attested'}`,
  )
  return gateway
}

/** `beryld gateway …` (validators). */
export function registerGatewayCommands(program: Command): void {
  const g = program.command('gateway').description("the validator's gateway for workers and applications")
  g.command('address')
    .description("print the gateway's multiaddr (with its peer id) for workers' and apps' configs")
    .addOption(new Option('--home <dir>', 'node home').default(process.env.BERYL_HOME ?? path.join(os.homedir(), '.beryl')))
    .addOption(outputOpt())
    .action(async (f) => {
      const { gatewayAddress } = await import('../gateway/key.ts')
      const addr = await gatewayAddress(f.home)
      if (!addr) throw new Error(`the gateway is off in ${homePaths(f.home).appToml} ([gateway] address is empty)`)
      const wildcard = addr.startsWith('/ip4/0.0.0.0/')
      print(
        f,
        { address: addr, peer_id: addr.split('/p2p/')[1], attester_key: readAppConfig(f.home).gateway['attester-key'] ?? '' },
        addr + (wildcard ? "\n(the gateway listens on every interface: give workers this address with 0.0.0.0 replaced by the machine's public IP)" : ''),
      )
    })
}
