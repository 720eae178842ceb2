// A node with Beryl's modules wired in: the ABCI application, CometBFT, the explorer-facing servers and the gateway.
// Kept apart from cli/node.ts so that only the commands that run a node load gRPC, fastify and libp2p.
import { startNode, type NodeService, type RunningNode } from '../chain/node/node.ts'
import type { RunningGateway } from '../gateway/service.ts'
import { BECH32_PREFIX, DENOM, berylModules } from '../modules/index.ts'
import { startGatewayService } from './gateway.ts'
import { berylNodeMetrics, gatewayMetrics } from './metrics.ts'
import { berylProtoFiles } from './proto-files.ts'
import { readVrfKey } from './vrfkey.ts'

export interface BerylNode extends RunningNode {
  /** The gateway, unless app.toml turns it off ([gateway] address = ""). */
  gateway?: RunningGateway
}

/** Starts a node with Beryl's modules wired in, and its gateway for workers and applications. */
export async function startBerylNode(home: string, opts: { abciOnly?: boolean; log?: (m: string) => void } = {}): Promise<BerylNode> {
  const { modules, ante, keepers } = berylModules({ vrfSecretKey: readVrfKey(home)?.secretKey })
  let gateway: RunningGateway | undefined
  let running: RunningNode | undefined
  const metrics = await berylNodeMetrics(() => running?.app)
  const node = await startNode({
    home,
    abciOnly: opts.abciOnly,
    log: opts.log,
    wiring: { modules, ante, bech32Prefix: BECH32_PREFIX, feeDenom: DENOM },
    proto: berylProtoFiles(),
    metrics,
    services: async ({ app, log }): Promise<NodeService[]> => {
      gateway = await startGatewayService(home, { app, keepers, log, metrics: metrics && gatewayMetrics(metrics, () => gateway?.gateway.sessionCount ?? 0) })
      return gateway ? [gateway] : []
    },
  })
  running = node
  return Object.assign(node, { gateway })
}
