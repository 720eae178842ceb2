import assert from 'node:assert/strict'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { SigningStargateClient, StargateClient } from '@cosmjs/stargate'
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import { createHash } from 'node:crypto'
import { rpcCall, startTestNode, waitFor, type TestNode } from '../helpers/node.ts'

const DENOM = 'uberyl'
const FEE = { amount: [{ denom: DENOM, amount: '5000' }], gas: '200000' }

interface SignedSend {
  from: string
  sequence: number
  amount: bigint
  bytes: Uint8Array
  hash: string
}

async function presign(node: TestNode, recipient: string, perAccount: number): Promise<SignedSend[]> {
  const reader = await StargateClient.connect(node.rpc)
  const out: SignedSend[] = []
  for (const acc of node.accounts) {
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(acc.mnemonic, { prefix: 'beryl' })
    const signer = await SigningStargateClient.offline(wallet)
    const { accountNumber, sequence } = await reader.getSequence(acc.address)
    for (let i = 0; i < perAccount; i++) {
      const amount = BigInt(1000 + out.length)
      const msg = {
        typeUrl: '/cosmos.bank.v1beta1.MsgSend',
        value: { fromAddress: acc.address, toAddress: recipient, amount: [{ denom: DENOM, amount: amount.toString() }] },
      }
      const tx = await signer.sign(acc.address, [msg], FEE, '', { accountNumber, sequence: sequence + i, chainId: node.chainId })
      const bytes = TxRaw.encode(tx).finish()
      out.push({ from: acc.address, sequence: sequence + i, amount, bytes, hash: createHash('sha256').update(bytes).digest('hex').toUpperCase() })
    }
  }
  reader.disconnect()
  return out
}

async function broadcast(node: TestNode, tx: SignedSend): Promise<number | undefined> {
  try {
    const r = await rpcCall(node.rpc, 'broadcast_tx_sync', { tx: Buffer.from(tx.bytes).toString('base64') })
    return r.result?.code ?? -1
  } catch {
    return undefined // node unreachable
  }
}

async function findTx(node: TestNode, hash: string): Promise<boolean> {
  const r = await rpcCall(node.rpc, 'tx', { hash: Buffer.from(hash, 'hex').toString('base64') })
  return !!r.result
}

async function freshAddress(): Promise<string> {
  const w = await DirectSecp256k1HdWallet.generate(12, { prefix: 'beryl' })
  return (await w.getAccounts())[0]!.address
}

describe('crash safety (real CometBFT, real LevelDB)', function () {
  this.timeout(240_000)
  let node: TestNode
  before(async () => {
    node = await startTestNode({ accounts: 3 })
  })
  after(async () => {
    await node?.cleanup()
  })

  it('stop and start: height continues and balances are intact', async () => {
    const reader = await StargateClient.connect(node.rpc)
    const recipient = await freshAddress()
    const [tx] = await presign(node, recipient, 1)
    assert.equal(await broadcast(node, tx!), 0)
    await waitFor('the send to commit', async () => ((await findTx(node, tx!.hash)) ? true : undefined))
    const balances = await Promise.all(node.accounts.map((a) => reader.getBalance(a.address, DENOM)))
    const heightBefore = await node.height()
    reader.disconnect()

    assert.equal(await node.stop(), 0, `clean exit expected; output:\n${node.output()}`)
    assert.match(node.output(), /stopped by SIGTERM/)
    await node.start()
    await waitFor('a new block', async () => ((await node.height()) > heightBefore ? true : undefined))

    const reader2 = await StargateClient.connect(node.rpc)
    assert.deepEqual(await Promise.all(node.accounts.map((a) => reader2.getBalance(a.address, DENOM))), balances)
    assert.deepEqual(await reader2.getBalance(recipient, DENOM), { denom: DENOM, amount: tx!.amount.toString() })
    reader2.disconnect()
  })

  it('kill -9 during a stream of sends: replay continues the chain, no tx applied twice or lost', async () => {
    const recipient = await freshAddress()
    const txs = await presign(node, recipient, 40)
    // Interleave accounts, as independent wallets would.
    const order = [...txs].sort((a, b) => a.sequence - b.sequence || (a.from < b.from ? -1 : 1))
    const accepted: SignedSend[] = []
    const killAt = Math.floor(order.length / 2)
    let killed: Promise<void> | undefined
    for (let i = 0; i < order.length; i++) {
      if (i === killAt) killed = node.kill9()
      const code = await broadcast(node, order[i]!)
      if (code === 0) accepted.push(order[i]!)
      if (code === undefined) break
    }
    await killed
    const crashHeight = await (async () => {
      try {
        return await node.height()
      } catch {
        return 0n
      }
    })()
    assert.equal(crashHeight, 0n, 'the node is down after kill -9')
    assert.ok(accepted.length >= killAt, `at least the txs before the kill were accepted (${accepted.length})`)

    await node.start()
    // Mempools are not persistent: as a wallet would, re-send what is not on chain yet, in sequence order.
    // A tx already applied is refused (its sequence is used), so nothing can apply twice.
    for (const tx of accepted) {
      if (!(await findTx(node, tx.hash))) {
        const code = await broadcast(node, tx)
        assert.ok(code === 0 || code === 32 || code === undefined || code === -1, `re-broadcast of ${tx.hash} gave ${code}`)
      }
    }
    // The rest of the stream after the restart.
    for (const tx of order.filter((t) => !accepted.includes(t))) {
      if ((await broadcast(node, tx)) === 0) accepted.push(tx)
    }
    await waitFor(
      'every accepted tx on chain',
      async () => {
        for (const tx of accepted) if (!(await findTx(node, tx.hash))) return undefined
        return true
      },
      60_000,
    )

    const hashes: string[] = []
    for (let page = 1; ; page++) {
      const found = await rpcCall(node.rpc, 'tx_search', { query: `transfer.recipient='${recipient}'`, per_page: '100', page: String(page) })
      hashes.push(...found.result.txs.map((t: { hash: string }) => t.hash))
      if (hashes.length >= Number(found.result.total_count)) break
    }
    assert.equal(hashes.length, new Set(hashes).size)
    assert.deepEqual([...hashes].sort(), accepted.map((t) => t.hash).sort(), 'every accepted tx hash is found exactly once')
    const reader = await StargateClient.connect(node.rpc)
    const sum = accepted.reduce((a, t) => a + t.amount, 0n)
    assert.deepEqual(await reader.getBalance(recipient, DENOM), { denom: DENOM, amount: sum.toString() })
    for (const acc of node.accounts) {
      const n = accepted.filter((t) => t.from === acc.address).length
      const first = Math.min(...txs.filter((t) => t.from === acc.address).map((t) => t.sequence))
      assert.equal((await reader.getSequence(acc.address)).sequence, first + n, `sequence of ${acc.name}`)
    }
    reader.disconnect()
  })

  for (const stage of ['before-write', 'after-write'] as const) {
    it(`a crash ${stage === 'before-write' ? 'before Commit writes' : 'after Commit wrote but before it answered'}: the handshake replays and the chain goes on`, async () => {
      await node.stop()
      const h =
        (await (async () => {
          await node.start()
          return node.height()
        })()) + 3n
      await node.stop()
      await node.startAndCrash({ BERYL_FAULT: `${stage}:${h}` })
      assert.match(node.output(), new RegExp(`BERYL_FAULT: killing the process ${stage} of height ${h}`))
      await node.start()
      await waitFor(`height ${h + 2n}`, async () => ((await node.height()) >= h + 2n ? true : undefined))
      // And it still executes transactions.
      const recipient = await freshAddress()
      const [tx] = await presign(node, recipient, 1)
      assert.equal(await broadcast(node, tx!), 0)
      await waitFor('the send to commit', async () => ((await findTx(node, tx!.hash)) ? true : undefined))
    })
  }
})
