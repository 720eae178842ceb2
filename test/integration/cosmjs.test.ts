import assert from 'node:assert/strict'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { BroadcastTxError, GasPrice, SigningStargateClient, StargateClient, calculateFee, type DeliverTxResponse } from '@cosmjs/stargate'
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import { ServiceClientImpl } from 'cosmjs-types/cosmos/tx/v1beta1/service'
import { QueryClient, createProtobufRpcClient } from '@cosmjs/stargate'
import { Comet38Client } from '@cosmjs/tendermint-rpc'
import { startTestNode, type TestNode } from '../helpers/node.ts'

const DENOM = 'uberyl'
const gasPrice = GasPrice.fromString(`0.025${DENOM}`)

describe('cosmjs, unchanged, against a real node', function () {
  this.timeout(120_000)
  let node: TestNode
  let client: SigningStargateClient
  let reader: StargateClient
  let alice: string, bob: string, carol: string
  let cometClient: Comet38Client

  before(async () => {
    node = await startTestNode({ accounts: 3 })
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(node.accounts[0]!.mnemonic, { prefix: 'beryl' })
    alice = (await wallet.getAccounts())[0]!.address
    bob = node.accounts[1]!.address
    carol = node.accounts[2]!.address
    client = await SigningStargateClient.connectWithSigner(node.rpc, wallet, { gasPrice })
    reader = await StargateClient.connect(node.rpc)
    cometClient = await Comet38Client.connect(node.rpc)
  })
  after(async () => {
    client?.disconnect()
    reader?.disconnect()
    cometClient?.disconnect()
    await node?.cleanup()
  })

  describe('StargateClient', () => {
    it('getChainId returns the genesis chain id', async () => {
      assert.equal(await reader.getChainId(), node.chainId)
    })
    it('getHeight follows the chain', async () => {
      const h1 = await reader.getHeight()
      assert.ok(h1 >= 1)
      await new Promise((r) => setTimeout(r, 700))
      assert.ok((await reader.getHeight()) > h1)
    })
    it('getAccount of an unknown address is null', async () => {
      const fresh = await DirectSecp256k1HdWallet.generate(12, { prefix: 'beryl' })
      const address = (await fresh.getAccounts())[0]!.address
      assert.equal(await reader.getAccount(address), null)
    })
    it('getAccount and getSequence of a genesis account', async () => {
      const acc = await reader.getAccount(carol)
      assert.ok(acc)
      assert.equal(acc.address, carol)
      assert.equal(acc.sequence, 0)
      assert.equal(acc.pubkey, null)
      const seq = await reader.getSequence(carol)
      assert.equal(seq.sequence, 0)
      assert.equal(seq.accountNumber, acc.accountNumber)
    })
    it('getBalance and getAllBalances', async () => {
      assert.deepEqual(await reader.getBalance(carol, DENOM), { denom: DENOM, amount: '1000000000000' })
      assert.deepEqual(await reader.getBalance(carol, 'unknowncoin'), { denom: 'unknowncoin', amount: '0' })
      assert.deepEqual(await reader.getAllBalances(carol), [{ denom: DENOM, amount: '1000000000000' }])
    })
    it('getBlock returns a block of this chain', async () => {
      const b = await reader.getBlock(1)
      assert.equal(b.header.chainId, node.chainId)
      assert.equal(b.header.height, 1)
      const latest = await reader.getBlock()
      assert.ok(latest.header.height >= 1)
    })
  })

  describe('SigningStargateClient', () => {
    const sent: DeliverTxResponse[] = []

    it('sendTokens with an explicit fee moves the amount and charges the fee', async () => {
      const before = BigInt((await reader.getBalance(alice, DENOM)).amount)
      const bobBefore = BigInt((await reader.getBalance(bob, DENOM)).amount)
      const fee = calculateFee(120_000, gasPrice)
      const res = await client.sendTokens(alice, bob, [{ denom: DENOM, amount: '12345' }], fee, 'explicit fee')
      assert.equal(res.code, 0, res.rawLog)
      sent.push(res)
      assert.equal(BigInt((await reader.getBalance(bob, DENOM)).amount), bobBefore + 12345n)
      assert.equal(BigInt((await reader.getBalance(alice, DENOM)).amount), before - 12345n - BigInt(fee.amount[0]!.amount))
      assert.ok(res.gasUsed > 0n && res.gasUsed <= res.gasWanted)
      assert.equal(res.msgResponses[0]?.typeUrl, '/cosmos.bank.v1beta1.MsgSendResponse')
    })

    it('sendTokens with "auto" fee simulates and succeeds', async () => {
      const res = await client.sendTokens(alice, bob, [{ denom: DENOM, amount: '1' }], 'auto')
      assert.equal(res.code, 0, res.rawLog)
      sent.push(res)
      assert.equal((await reader.getAccount(alice))!.sequence, 2)
      // The account's key was recorded by its first transaction.
      assert.ok((await reader.getAccount(alice))!.pubkey)
    })

    it('getTx finds a sent transaction with its events', async () => {
      const tx = await reader.getTx(sent[0]!.transactionHash)
      assert.ok(tx)
      assert.equal(tx.code, 0)
      assert.equal(tx.height, sent[0]!.height)
      const transfer = tx.events.find((e) => e.type === 'transfer' && e.attributes.some((a) => a.key === 'recipient' && a.value === bob))
      assert.ok(transfer, 'a transfer event names the recipient')
      assert.ok(tx.events.some((e) => e.type === 'tx' && e.attributes.some((a) => a.key === 'acc_seq' && a.value === `${alice}/0`)))
    })

    it('the tx service GetTx (gRPC path over ABCI query) returns the tx and its result', async () => {
      const qc = QueryClient.withExtensions(cometClient)
      const rpcClient = createProtobufRpcClient(qc)
      const svc = new ServiceClientImpl(rpcClient)
      const res = await svc.GetTx({ hash: sent[0]!.transactionHash })
      assert.equal(res.txResponse?.txhash, sent[0]!.transactionHash)
      assert.equal(res.txResponse?.height, BigInt(sent[0]!.height))
      assert.equal(res.txResponse?.code, 0)
      assert.equal(res.tx?.body?.memo, 'explicit fee')
      await assert.rejects(svc.GetTx({ hash: 'AB'.repeat(32) }), /not found/)
    })

    it('searchTx by sender and by height', async () => {
      const bySender = await reader.searchTx(`message.sender='${alice}'`)
      const hashes = bySender.map((t) => t.hash)
      for (const r of sent) assert.ok(hashes.includes(r.transactionHash), `tx ${r.transactionHash} found by sender`)
      const byHeight = await reader.searchTx(`tx.height=${sent[1]!.height}`)
      assert.ok(byHeight.some((t) => t.hash === sent[1]!.transactionHash))
      const byAction = await reader.searchTx(`message.action='/cosmos.bank.v1beta1.MsgSend' AND message.sender='${alice}'`)
      for (const r of sent) assert.ok(byAction.some((t) => t.hash === r.transactionHash))
      const byRecipient = await reader.searchTx(`transfer.recipient='${bob}'`)
      for (const r of sent) assert.ok(byRecipient.some((t) => t.hash === r.transactionHash))
      assert.deepEqual(await reader.searchTx(`transfer.recipient='${carol}'`), [])
    })
  })

  describe('errors surface with their codes', () => {
    async function signed(opts: { sequenceOffset?: number; fee?: ReturnType<typeof calculateFee>; amount?: string } = {}): Promise<Uint8Array> {
      const { accountNumber, sequence } = await reader.getSequence(alice)
      const msg = {
        typeUrl: '/cosmos.bank.v1beta1.MsgSend',
        value: { fromAddress: alice, toAddress: bob, amount: [{ denom: DENOM, amount: opts.amount ?? '1' }] },
      }
      const tx = await client.sign(alice, [msg], opts.fee ?? calculateFee(150_000, gasPrice), '', {
        accountNumber,
        sequence: sequence + (opts.sequenceOffset ?? 0),
        chainId: node.chainId,
      })
      return TxRaw.encode(tx).finish()
    }
    async function broadcastCode(tx: Uint8Array): Promise<{ code: number; codespace: string; log: string }> {
      try {
        await client.broadcastTxSync(tx)
      } catch (err) {
        if (err instanceof BroadcastTxError) return { code: err.code, codespace: err.codespace, log: err.log ?? '' }
        throw err
      }
      return { code: 0, codespace: '', log: '' }
    }

    it('wrong sequence → 32', async () => {
      const r = await broadcastCode(await signed({ sequenceOffset: 5 }))
      assert.equal(r.code, 32)
      assert.equal(r.codespace, 'sdk')
      assert.match(r.log, /account sequence mismatch, expected \d+, got \d+/)
    })

    it('bad signature → 4', async () => {
      const tx = TxRaw.decode(await signed())
      tx.signatures[0]![10] ^= 0xff
      const r = await broadcastCode(TxRaw.encode(tx).finish())
      assert.equal(r.code, 4)
      assert.match(r.log, /signature verification failed/)
    })

    it('fee below the minimum gas price → 13', async () => {
      const r = await broadcastCode(await signed({ fee: { amount: [{ denom: DENOM, amount: '1' }], gas: '150000' } }))
      assert.equal(r.code, 13)
      assert.match(r.log, /insufficient fees; got: 1uberyl required: 3750uberyl/)
    })

    it('out of gas → 11', async () => {
      const r = await broadcastCode(await signed({ fee: { amount: [{ denom: DENOM, amount: '200' }], gas: '5000' } }))
      assert.equal(r.code, 11)
      assert.match(r.log, /out of gas/)
    })

    it('insufficient funds → 5 in the block; only the fee is taken', async () => {
      const before = BigInt((await reader.getBalance(alice, DENOM)).amount)
      const fee = calculateFee(150_000, gasPrice)
      const res = await client.sendTokens(alice, bob, [{ denom: DENOM, amount: (before + 1n).toString() }], fee)
      assert.equal(res.code, 5)
      assert.match(res.rawLog ?? '', /insufficient funds/)
      assert.equal(BigInt((await reader.getBalance(alice, DENOM)).amount), before - BigInt(fee.amount[0]!.amount))
      const tx = await reader.getTx(res.transactionHash)
      assert.equal(tx?.code, 5)
    })
  })
})
