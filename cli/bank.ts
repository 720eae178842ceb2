import type { Command } from 'commander'
import { feeArg, print, queryClient, signingClient, type ClientFlags, type TxFlags } from './client.ts'
import { parseCoins } from './init.ts'
import { queryFlags, txFlags } from './options.ts'

/** `beryld tx bank send`, `beryld query bank balances` and `beryld query auth account`: coins and accounts, through cosmjs. */
export function registerBankCommands(tx: Command, query: Command): void {
  const txBank = tx.command('bank').description('bank transactions')
  txFlags(
    txBank
      .command('send')
      .description('send coins from a key to an address')
      .argument('<from>', 'key name or address in the keyring')
      .argument('<to>', 'recipient beryl1… address')
      .argument('<amount>', 'e.g. 1000uberyl or 1.5beryl'),
  ).action(async (from: string, to: string, amount: string, o: TxFlags) => {
    const { client, address } = await signingClient(o, from)
    try {
      const res = await client.sendTokens(address, to, parseCoins(amount), feeArg(o), o.memo)
      const out = {
        txhash: res.transactionHash,
        height: res.height,
        code: res.code,
        gas_wanted: res.gasWanted,
        gas_used: res.gasUsed,
        raw_log: res.rawLog ?? '',
      }
      print(
        o,
        out,
        `txhash: ${out.txhash}\nheight: ${out.height}\ncode: ${out.code}${out.code ? `\nlog: ${out.raw_log}` : ''}\ngas: ${out.gas_used} used of ${out.gas_wanted}`,
      )
      if (res.code !== 0) process.exitCode = 1
    } finally {
      client.disconnect()
    }
  })

  const qAuth = query.command('auth').description('accounts')
  queryFlags(qAuth.command('account').description("an account's number, sequence and public key").argument('<address>')).action(
    async (address: string, o: ClientFlags) => {
      const c = await queryClient(o)
      try {
        const acc = await c.getAccount(address)
        if (!acc) {
          print(o, null, `account ${address} not found (it has never received funds)`)
          process.exitCode = 1
          return
        }
        print(
          o,
          acc,
          `address: ${acc.address}\naccount_number: ${acc.accountNumber}\nsequence: ${acc.sequence}\npubkey: ${acc.pubkey ? acc.pubkey.value : '(not set: the account has not sent a transaction)'}`,
        )
      } finally {
        c.disconnect()
      }
    },
  )
  const qBank = query.command('bank').description('balances')
  queryFlags(qBank.command('balances').description("an address's balances").argument('<address>').option('--denom <denom>', 'only this denom')).action(
    async (address: string, o: ClientFlags & { denom?: string }) => {
      const c = await queryClient(o)
      try {
        const balances = o.denom ? [await c.getBalance(address, o.denom)] : await c.getAllBalances(address)
        print(o, { balances }, balances.length ? balances.map((b) => `${b.amount} ${b.denom}`).join('\n') : 'no balances')
      } finally {
        c.disconnect()
      }
    },
  )
}
