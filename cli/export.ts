import fs from 'node:fs'
import { type Command, Option } from 'commander'
import { DEFAULT_HOME } from '../chain/node/config.ts'
import { exportGenesisFile } from '../chain/node/export.ts'
import { BECH32_PREFIX, DENOM, berylModules } from '../modules/index.ts'

/** `beryld export`: the whole application state of a stopped node as a genesis file. */
export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description(
      "write a genesis file of the whole application state of a stopped node (every module's export); start a new chain from it with the same balances, nodes, tasks, QoS and params",
    )
    .addOption(new Option('--home <dir>', 'node home folder').default(process.env.BERYL_HOME ?? DEFAULT_HOME))
    .option('--height <n>', 'the height to export; a node keeps only its latest state, so this must be the last committed height')
    .option('--output-document <file>', 'write the genesis here instead of standard output')
    .action(async (o: { home: string; height?: string; outputDocument?: string }) => {
      if (o.height !== undefined && !/^\d+$/.test(o.height)) throw new Error('--height must be a block height')
      const { modules, ante } = berylModules()
      const g = await exportGenesisFile(
        o.home,
        { modules, ante, bech32Prefix: BECH32_PREFIX, feeDenom: DENOM },
        { height: o.height === undefined ? undefined : BigInt(o.height) },
      )
      const text = JSON.stringify(g, null, 2) + '\n'
      if (o.outputDocument) {
        fs.writeFileSync(o.outputDocument, text)
        console.error(`exported height ${BigInt(g.initial_height as string) - 1n} of ${g.chain_id} to ${o.outputDocument}`)
      } else process.stdout.write(text)
    })
}
