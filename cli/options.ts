// The options `beryld` commands share, made fresh for each command (commander options are not shared objects).
import { type Command, Option } from 'commander'
import { DEFAULT_HOME } from '../chain/node/config.ts'
import { DENOM } from '../modules/index.ts'

export const homeOpt = () => new Option('--home <dir>', 'node home folder (config/, data/, keyrings)').default(process.env.BERYL_HOME ?? DEFAULT_HOME)
export const outputOpt = () => new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text')
export const nodeOpt = () => new Option('--node <url>', 'CometBFT RPC of a Beryl node (default: the node of --home, else http://127.0.0.1:26657)')
export const backendOpt = () =>
  new Option('--keyring-backend <backend>', '"file" (encrypted; passphrase from BERYL_KEYRING_PASSPHRASE or a prompt) or "test" (plain, devnets only)')
    .choices(['file', 'test'])
    .default('file')

/** What a query takes: the home, the node, the output format. */
export const queryFlags = (c: Command) => c.addOption(homeOpt()).addOption(nodeOpt()).addOption(outputOpt())

/** What a transaction takes: a query's options, the keyring and the fee. */
export const txFlags = (c: Command) =>
  c
    .addOption(homeOpt())
    .addOption(nodeOpt())
    .addOption(backendOpt())
    .addOption(outputOpt())
    .option('--fees <coins>', `fee to pay, e.g. 5000${DENOM} (overrides --gas-prices)`)
    .option('--gas <gas>', '"auto" (simulate, then × --gas-adjustment) or a gas limit', 'auto')
    .option('--gas-prices <price>', 'price per unit of gas', `0.025${DENOM}`)
    .option('--gas-adjustment <factor>', 'multiplier on the simulated gas', '1.4')
    .option('--memo <text>', 'memo (at most 256 characters)')

/** An integer option in [min, max]. */
export const intIn = (min: number, max: number, flag: string) => (v: string) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} must be ${min === max ? min : `${min}..${max}`}`)
  return n
}
