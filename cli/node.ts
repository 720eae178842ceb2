import { startNode, type NodeService, type RunningNode } from '../chain/node/node.ts'
import { BECH32_PREFIX, DENOM, berylModules } from '../modules/index.ts'
import type { RunningGateway } from '../gateway/service.ts'
import { startGatewayService } from './gateway.ts'

export interface BerylNode extends RunningNode {
  /** The gateway, unless app.toml turns it off ([gateway] address = ""). */
  gateway?: RunningGateway
}

/** Starts a node with Beryl's modules wired in, and its gateway for workers and applications. */
export async function startBerylNode(home: string, opts: { abciOnly?: boolean; log?: (m: string) => void } = {}): Promise<BerylNode> {
  const { modules, ante, keepers } = berylModules()
  let gateway: RunningGateway | undefined
  const node = await startNode({
    home, abciOnly: opts.abciOnly, log: opts.log, wiring: { modules, ante, bech32Prefix: BECH32_PREFIX, feeDenom: DENOM },
    services: async ({ app, log }): Promise<NodeService[]> => {
      gateway = await startGatewayService(home, { app, keepers, log })
      return gateway ? [gateway] : []
    },
  })
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
