import type { Command } from 'commander'
import { keyring, print } from './client.ts'
import { Keyring, readStdin } from './keyring.ts'
import { backendOpt, homeOpt, outputOpt } from './options.ts'

/** `beryld keys …`: the local keyring (keyring.ts). */
export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description("manage the keys in the local keyring (BIP-39 mnemonics, HD path m/44'/118'/0'/0/0)")
  keys
    .command('add')
    .description('create a key (prints its mnemonic once: write it down) or recover one with --recover')
    .argument('<name>')
    .option('--recover', 'read an existing mnemonic from standard input instead of creating one')
    .addOption(homeOpt())
    .addOption(backendOpt())
    .addOption(outputOpt())
    .action(async (name: string, o) => {
      const mnemonic = o.recover ? (await readStdin()).trim() : Keyring.generateMnemonic()
      const info = await keyring(o).add(name, mnemonic)
      print(
        o,
        { ...info, ...(o.recover ? {} : { mnemonic }) },
        `- name: ${info.name}\n  address: ${info.address}\n  pubkey: ${info.pubkey}` +
          (o.recover ? '' : `\n\n**Write this mnemonic down; it is the only way to recover the key:**\n\n${mnemonic}`),
      )
    })
  keys
    .command('list')
    .description('list keys')
    .addOption(homeOpt())
    .addOption(backendOpt())
    .addOption(outputOpt())
    .action((o) => {
      const list = keyring(o).list()
      print(o, list, list.length ? list.map((k) => `- name: ${k.name}\n  address: ${k.address}`).join('\n') : `no keys in ${keyring(o).dir}`)
    })
  keys
    .command('show')
    .description("show a key's address and public key")
    .argument('<name>')
    .option('-a, --address', 'print only the address')
    .addOption(homeOpt())
    .addOption(backendOpt())
    .addOption(outputOpt())
    .action((name: string, o) => {
      const k = keyring(o).show(name)
      if (o.address) console.log(k.address)
      else print(o, k, `- name: ${k.name}\n  address: ${k.address}\n  pubkey: ${k.pubkey}`)
    })
  keys
    .command('delete')
    .description('delete a key from the keyring')
    .argument('<name>')
    .option('-y, --yes', 'skip the confirmation')
    .addOption(homeOpt())
    .addOption(backendOpt())
    .action((name: string, o) => {
      if (!o.yes) throw new Error('deleting a key cannot be undone; repeat with --yes')
      keyring(o).delete(name)
      console.log(`deleted key ${name}`)
    })
  keys
    .command('export')
    .description("print a key's mnemonic (anyone who sees it controls the account)")
    .argument('<name>')
    .option('--unsafe', 'confirm that the mnemonic may be printed')
    .addOption(homeOpt())
    .addOption(backendOpt())
    .addOption(outputOpt())
    .action(async (name: string, o) => {
      if (!o.unsafe) throw new Error('exporting prints the secret mnemonic; repeat with --unsafe')
      const mnemonic = await keyring(o).mnemonic(name)
      print(o, { name, mnemonic }, mnemonic)
    })
  keys
    .command('import')
    .description('store a key from a mnemonic read from standard input')
    .argument('<name>')
    .addOption(homeOpt())
    .addOption(backendOpt())
    .addOption(outputOpt())
    .action(async (name: string, o) => {
      const info = await keyring(o).add(name, (await readStdin()).trim())
      print(o, info, `- name: ${info.name}\n  address: ${info.address}`)
    })
}
