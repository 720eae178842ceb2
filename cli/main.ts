// `beryld`: assembles the command tree, one noun per file (cli/README.md), and runs it.
import { pathToFileURL } from 'node:url'
import { Command } from 'commander'
import { COMETBFT_VERSION } from '../chain/node/cometbft.ts'
import { SOFTWARE_VERSION } from '../chain/app.ts'
import { registerApiCommand } from './api.ts'
import { registerBankCommands } from './bank.ts'
import { registerDevnetCommands } from './devnet.ts'
import { registerExportCommand } from './export.ts'
import { registerGatewayCommands } from './gateway.ts'
import { registerGenesisCommands } from './genesis.ts'
import { registerKeysCommands } from './keys.ts'
import { registerNodeCommands } from './node.ts'
import { registerQosCommands } from './qos.ts'
import { registerSimCommands } from './sim.ts'
import { registerStakingCommands } from './staking.ts'
import { registerTaskCommands } from './task.ts'
import { registerValidatorCommands } from './validator.ts'
import { registerVssCommands } from './vss.ts'
import { homeOpt, nodeOpt, outputOpt, txFlags } from './options.ts'
import { registerWorkerCommands } from './worker.ts'

const program = new Command()
program
  .name('beryld')
  .description(
    'Beryl: an app-chain for verifiable, decentralized AI compute.\nRun a validator (init, start), manage keys, send transactions and query the chain.',
  )
  .version(`${SOFTWARE_VERSION} (CometBFT ${COMETBFT_VERSION})`)
  .showHelpAfterError('(run with --help for usage)')
  // A subcommand's flags are its own, even where its parent has a flag of the same name (sim and sim sweep).
  .enablePositionalOptions()

registerNodeCommands(program)
registerKeysCommands(program)
registerGenesisCommands(program)
registerExportCommand(program)
const tx = program.command('tx').description('sign and broadcast transactions (waits until included in a block)')
const query = program.command('query').alias('q').description('query chain state')
registerBankCommands(tx, query)
registerValidatorCommands(program, { txFlags, homeOpt, nodeOpt, outputOpt })
registerStakingCommands(tx, query)
registerTaskCommands(program, tx, query)
registerQosCommands(query)
registerVssCommands(query)
registerWorkerCommands(program)
registerApiCommand(program, { homeOpt, outputOpt })
registerGatewayCommands(program)
registerDevnetCommands(program)
registerSimCommands(program)

/** The whole command tree, for tools that read it (the docs check); parsing runs only when this is the program. */
export { program }

/** Parses the command line and runs the command; an error prints one line (its stack with BERYL_DEBUG=1) and exits 1. */
export function run(argv: string[] = process.argv): void {
  program.parseAsync(argv).catch((err: Error) => {
    console.error(`Error: ${err.message}`)
    if (process.env.BERYL_DEBUG) console.error(err.stack)
    process.exit(1)
  })
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) run()
