import fs from 'node:fs'
import { BerylApp, type AppOptions } from '../app.ts'
import { CommittedStore } from '../store/leveldb.ts'
import { homePaths } from './config.ts'

/**
 * A genesis file of the whole application state of a stopped node, as Cosmos' `export` writes
 * one: the node's genesis (consensus params, validators, chain id) with `app_state` replaced by
 * every module's export, `genesis_time` the last block's time and `initial_height` the next height,
 * so a chain started from it goes on where this one stopped.
 */
export async function exportGenesisFile(
  home: string,
  wiring: Pick<AppOptions, 'modules' | 'ante' | 'bech32Prefix' | 'feeDenom'>,
  opts: { height?: bigint } = {},
): Promise<Record<string, unknown>> {
  const paths = homePaths(home)
  if (!fs.existsSync(paths.genesis)) throw new Error(`no genesis at ${paths.genesis}; is ${home} a node home?`)
  if (!fs.existsSync(paths.appDb)) throw new Error(`no application state at ${paths.appDb}: the node has not run yet`)
  let store: CommittedStore
  try {
    store = await CommittedStore.open(paths.appDb)
  } catch (err) {
    throw new Error(`${(err as Error).message}; stop the node before exporting`)
  }
  try {
    const height = store.info.height
    if (height === 0n) throw new Error('the node has committed no block yet: nothing to export')
    if (opts.height !== undefined && opts.height !== height) {
      throw new Error(`a node keeps only its latest state (height ${height}); it cannot export height ${opts.height}`)
    }
    const app = new BerylApp(store, wiring)
    const e = await app.exportGenesis()
    const genesis = JSON.parse(fs.readFileSync(paths.genesis, 'utf8')) as Record<string, unknown>
    return {
      ...genesis,
      genesis_time: new Date(Number(e.timeSeconds) * 1000).toISOString(),
      chain_id: e.chainId || genesis.chain_id,
      initial_height: (e.height + 1n).toString(),
      app_hash: '',
      app_state: e.appState,
    }
  } finally {
    await store.close()
  }
}
