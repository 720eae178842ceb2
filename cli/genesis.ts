import type { Command } from 'commander'
import { keyring } from './client.ts'
import { addGenesisAccount, parseCoins } from './init.ts'
import { registerGenesisCeremonyCommands } from './gentx.ts'
import { backendOpt, homeOpt, outputOpt } from './options.ts'

/** `beryld genesis …`: edits of the genesis file before the chain starts. */
export function registerGenesisCommands(program: Command): void {
  const genesis = program.command('genesis').description('edit the genesis file before the chain starts')
  genesis
    .command('add-account')
    .description('fund an account in genesis')
    .argument('<address-or-key>', 'a beryl1… address, or the name of a key in the keyring')
    .argument('<coins>', 'e.g. 1000000uberyl or 10beryl (comma-separated for several denoms)')
    .addOption(homeOpt())
    .addOption(backendOpt())
    .action((who: string, coins: string, o) => {
      const address = who.startsWith('beryl1') ? who : keyring(o).show(who).address
      addGenesisAccount(o.home, address, parseCoins(coins))
      console.log(`added ${address} with ${coins} to ${o.home}/config/genesis.json`)
    })
  registerGenesisCeremonyCommands(genesis, { homeOpt, backendOpt, outputOpt })
}
