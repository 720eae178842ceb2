import { genesisChainId, homePaths, readAppConfig } from '../chain/node/config.ts'
import { startNode, type NodeService, type RunningNode } from '../chain/node/node.ts'
import { BECH32_PREFIX, DENOM, berylModules } from '../modules/index.ts'
import { startBerylGateway, type RunningGateway } from './gateway.ts'
import { berylNodeMetrics, gatewayMetrics } from './metrics.ts'
import { berylProtoFiles } from './proto-files.ts'
import { Keyring, type KeyringBackend } from './keyring.ts'

export interface BerylNode extends RunningNode {
  /** The gateway, unless app.toml turns it off ([gateway] address = ""). */
  gateway?: RunningGateway
}

/** Starts a node with Beryl's modules wired in, and its gateway for workers and applications. */
export async function startBerylNode(home: string, opts: { abciOnly?: boolean; log?: (m: string) => void } = {}): Promise<BerylNode> {
  const { modules, ante, keepers } = berylModules()
  let gateway: RunningGateway | undefined
  let running: RunningNode | undefined
  const metrics = await berylNodeMetrics(() => running?.app)
  const node = await startNode({
    home, abciOnly: opts.abciOnly, log: opts.log, wiring: { modules, ante, bech32Prefix: BECH32_PREFIX, feeDenom: DENOM },
    proto: berylProtoFiles(), metrics,
    services: async ({ app, log }): Promise<NodeService[]> => {
      const cfg = readAppConfig(home)
      const g = cfg.gateway
      if (!g?.address) { log('beryld: gateway off ([gateway] address is empty in app.toml)'); return [] }
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
      try {
        gateway = await startBerylGateway({
          app, keepers, chainId, listen: [g.address], keyFile: paths.gatewayKey, resultDir: paths.results, cometRpc: cfg.cometbft.rpc,
          attester, resultTtlMs: (g['result-ttl-hours'] ?? 24) * 3600_000, connectionsPerHostPerSecond: g['connections-per-host-per-second'], log,
          metrics: metrics && gatewayMetrics(metrics, () => gateway?.gateway.sessionCount ?? 0),
        })
      } catch (err) {
        const m = (err as Error).message
        const why = /listen E[A-Z]+[^\n]*/.exec(m)?.[0] ?? m.split('\n')[0]
        throw new Error(`cannot start the gateway on ${g.address}: ${why} (change [gateway] address in ${paths.appToml}, or set it to "" to turn the gateway off)`)
      }
      const addrs = gateway.gateway.multiaddrs
      log(`beryld: gateway listening on ${addrs.join(', ')}${attester ? `; attester ${attester.address}` : '; no attester key: outputs are stored, not attested'}`)
      return [gateway]
    },
  })
  running = node
  return Object.assign(node, { gateway })
}

/** Stops the node on SIGINT/SIGTERM and exits with its reason. */
export async function runUntilSignal(node: RunningNode, log: (m: string) => void): Promise<never> {
  let signals = 0
  const onSignal = (sig: string) => {
    signals++
    if (signals > 1) { log('beryld: second signal, exiting now'); process.exit(130) }
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
