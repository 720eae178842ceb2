import fs from 'node:fs'
import { AbciServer } from '../abci/server.ts'
import { BerylApp, SOFTWARE_VERSION, type AppOptions } from '../app.ts'
import { CommittedStore } from '../store/leveldb.ts'
import { parseGasPrice } from '../tx/ante.ts'
import { txServiceQueries } from '../txservice.ts'
import { cometServiceRoutes, instrumentApp, startApi, type NodeMetrics, type RunningApi } from '../api/index.ts'
import { homePaths, parseHostPort, readAppConfig } from './config.ts'
import { startCometbft, tail, type CometProcess } from './cometbft.ts'

export interface NodeOptions {
  home: string
  /** Modules and ante keepers (the runtime knows no module; the CLI wires them). */
  wiring: Pick<AppOptions, 'modules' | 'ante' | 'bech32Prefix' | 'feeDenom'>
  /** Run only the ABCI application; CometBFT is started by someone else. */
  abciOnly?: boolean
  /** Services that run beside the application (e.g. the gateway), started once ABCI listens. */
  services?: (env: { app: BerylApp; home: string; log: (msg: string) => void }) => Promise<NodeService[]>
  /** The chain's own .proto files, for the gRPC/REST servers (reflection, JSON, OpenAPI); no servers without. */
  proto?: { dir: string; files: string[] }
  /** Prometheus metrics (optional: the node runs the same without). */
  metrics?: NodeMetrics
  log?: (msg: string) => void
}

/** Something the node runs beside the application; told when each block is committed. */
export interface NodeService {
  onCommitted?(height: bigint): void
  stop(): Promise<void>
}

export interface RunningNode {
  app: BerylApp
  store: CommittedStore
  abci: AbciServer
  comet?: CometProcess
  /** Resolves when the node has stopped, with the reason. */
  done: Promise<string>
  stop(reason?: string): Promise<void>
}

/**
 * Runs a validator node: the ABCI application and CometBFT as a supervised child. If either
 * dies, the other is stopped and the reason printed; `stop()` (SIGINT/SIGTERM) stops CometBFT
 * first, then lets the application finish the request it is on, then closes the database.
 */
export async function startNode(opts: NodeOptions): Promise<RunningNode> {
  const log = opts.log ?? ((m: string) => console.log(m))
  const paths = homePaths(opts.home)
  if (!fs.existsSync(paths.genesis)) throw new Error(`no genesis at ${paths.genesis}; run \`beryld init\` first`)
  const cfg = readAppConfig(opts.home)
  fs.mkdirSync(paths.data, { recursive: true })
  const store = await CommittedStore.open(paths.appDb)
  let app!: BerylApp
  let services: NodeService[] = []
  const fault = faultInjection(log)
  const byzantineProposer = byzantineMode()
  app = new BerylApp(store, {
    ...opts.wiring,
    minGasPrice: cfg['minimum-gas-prices'] ? parseGasPrice(cfg['minimum-gas-prices']) : undefined,
    queries: txServiceQueries({ simulate: (tx) => app.simulate(tx), cometRpcUrl: cfg.cometbft?.rpc }),
    log,
    byzantineProposer,
    onCommit: (stage, height) => {
      fault?.(stage, height)
      if (stage === 'after-write') for (const s of services) s.onCommitted?.(height)
    },
  })
  const abci = new AbciServer(opts.metrics ? instrumentApp(app, opts.metrics) : app, { log })
  const { host, port } = parseHostPort(cfg.abci.address)
  try {
    await abci.listen(port, host)
  } catch (err) {
    await store.close()
    throw new Error(`cannot listen for ABCI on ${host}:${port}: ${(err as Error).message}`)
  }
  log(`beryld: application at height ${store.info.height}, ABCI listening on ${host}:${port}`)
  let api: RunningApi | undefined
  try {
    if (opts.proto) {
      const nodeRoutes = cfg.cometbft?.rpc
        ? cometServiceRoutes({ cometRpcUrl: cfg.cometbft.rpc, bech32Prefix: opts.wiring.bech32Prefix, appName: 'beryld', appVersion: SOFTWARE_VERSION })
        : []
      api = await startApi(
        app,
        {
          grpcAddress: cfg.grpc?.address ?? '',
          restAddress: cfg.api?.address ?? '',
          cors: !!cfg.api?.['enabled-unsafe-cors'],
          chainProtoDir: opts.proto.dir,
          chainFiles: opts.proto.files,
          nodeRoutes,
          metrics: opts.metrics,
          version: SOFTWARE_VERSION,
        },
        log,
      )
    }
    services = (await opts.services?.({ app, home: opts.home, log })) ?? []
    if (api) services.push(api)
  } catch (err) {
    await api?.stop()
    await abci.close()
    await store.close()
    throw err
  }

  let stopping: Promise<void> | undefined
  let resolveDone!: (reason: string) => void
  const done = new Promise<string>((r) => {
    resolveDone = r
  })
  let comet: CometProcess | undefined

  const stop = (reason = 'stopped') => {
    stopping ??= (async () => {
      await comet?.stop()
      for (const s of services) await s.stop().catch((err) => log(`beryld: stopping a service: ${(err as Error).message}`))
      await abci.close()
      await store.close()
      resolveDone(reason)
    })()
    return stopping
  }

  if (!opts.abciOnly) {
    comet = startCometbft(opts.home, paths.cometLog)
    log(`beryld: CometBFT started (pid ${comet.child.pid}), log at ${paths.cometLog}`)
    comet.exited.then(({ code, signal }) => {
      if (stopping) return
      const why = `CometBFT exited unexpectedly (${signal ?? `code ${code}`}); last lines of ${paths.cometLog}:\n${tail(paths.cometLog)}`
      log(`beryld: ${why}`)
      void stop(why)
    })
  }
  return { app, store, abci, comet, done, stop }
}

/**
 * Crash tests set BERYL_FAULT=<before-write|after-write>:<height> to kill the process at that
 * point of Commit, exercising both of CometBFT's replay paths at restart. Unset in normal runs.
 */
function faultInjection(log: (m: string) => void): ((stage: string, height: bigint) => void) | undefined {
  const spec = process.env.BERYL_FAULT
  if (!spec) return undefined
  const m = /^(before-write|after-write):(\d+)$/.exec(spec)
  if (!m) throw new Error(`invalid BERYL_FAULT ${JSON.stringify(spec)}; expected before-write:<height> or after-write:<height>`)
  return (stage, height) => {
    if (stage === m[1] && height === BigInt(m[2]!)) {
      log(`beryld: BERYL_FAULT: killing the process ${stage} of height ${height}`)
      process.kill(process.pid, 'SIGKILL')
    }
  }
}

/**
 * Integration tests set BERYL_TEST_BYZANTINE_PROPOSER=<forge|short|missing> on one validator to make it
 * inject bad vote extensions when it proposes (the others must reject its blocks). Unset in normal runs.
 */
function byzantineMode(): 'forge' | 'short' | 'missing' | undefined {
  const v = process.env.BERYL_TEST_BYZANTINE_PROPOSER
  if (!v) return undefined
  if (v !== 'forge' && v !== 'short' && v !== 'missing')
    throw new Error(`invalid BERYL_TEST_BYZANTINE_PROPOSER ${JSON.stringify(v)}; expected forge, short or missing`)
  return v
}
