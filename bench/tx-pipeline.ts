// Where a bank send's time goes inside the application (no CometBFT): CheckTx, PrepareProposal,
// Process+Finalize (reusing the candidate), Commit, RECHECK; per tx, plus the signature backend
// in use, anchored against one raw signature verification measured in the same run.
// Usage: node --import tsx bench/tx-pipeline.ts [txs-per-account]
import { createHash } from 'node:crypto'
import { secp256k1Backend, verifySecp256k1 } from '../chain/tx/crypto.ts'
import { blockRequest, initChain, openApp, send, wallets } from '../test/helpers/chain.ts'

const PER = Number(process.argv[2] ?? 300)
const w = await wallets()
process.stderr.write(`signing ${PER * 3} txs…\n`)
const txs: Uint8Array[] = []
for (let i = 0; i < PER; i++)
  for (let a = 0; a < 3; a++) txs.push(await w[a]!.sign([send(w[a]!.address, w[(a + 1) % 3]!.address, '1')], i, { gas: '80000', fee: '2000' }))

const { app, close } = await openApp()
await initChain(
  app,
  w.map((x) => x.address),
)
await app.finalizeBlock(blockRequest(1n, []))
await app.commit()

const time = async (fn: () => Promise<unknown>) => {
  const t = performance.now()
  await fn()
  return performance.now() - t
}
const check = await time(async () => {
  for (const tx of txs) {
    const r = await app.checkTx({ tx, type: 0 })
    if (r.code) throw new Error(r.log)
  }
})
let kept: Uint8Array[] = []
const prep = await time(async () => {
  kept = (
    await app.prepareProposal({
      maxTxBytes: 50_000_000n,
      txs,
      localLastCommit: { round: 0, votes: [] },
      misbehavior: [],
      height: 2n,
      time: blockRequest(2n, []).time,
      nextValidatorsHash: new Uint8Array(32),
      proposerAddress: new Uint8Array(20).fill(7),
    })
  ).txs!
})
const req = blockRequest(2n, kept)
const fin = await time(async () => {
  await app.processProposal(req)
  await app.finalizeBlock(req)
})
const com = await time(() => app.commit())
const rest = txs.slice(kept.length)
const re = await time(async () => {
  for (const tx of rest) await app.checkTx({ tx, type: 1 })
})
await close()

// Anchor: one signature verification of a fresh (uncached) signature with the same backend.
const { createRequire } = await import('node:module')
const sec = createRequire(import.meta.url)('secp256k1') as {
  ecdsaSign(m: Uint8Array, k: Uint8Array): { signature: Uint8Array }
  publicKeyCreate(k: Uint8Array, c: boolean): Uint8Array
}
const sk = createHash('sha256').update('anchor').digest()
const pk = sec.publicKeyCreate(sk, true)
const sigs = Array.from({ length: 2000 }, (_, i) => {
  const m = Buffer.from(`m${i}`)
  return { m, s: sec.ecdsaSign(createHash('sha256').update(m).digest(), sk).signature }
})
const verify =
  (await time(async () => {
    for (const { m, s } of sigs) verifySecp256k1(pk, m, s)
  })) / sigs.length

const us = (ms: number, n: number) => ((ms / Math.max(n, 1)) * 1000).toFixed(0).padStart(5)
console.log(`
tx pipeline, ${txs.length} bank sends from 3 accounts (signature backend: ${secp256k1Backend})
  one signature verification  ${(verify * 1000).toFixed(0).padStart(5)} µs  (anchor)
  CheckTx                     ${us(check, txs.length)} µs/tx  = ${(check / txs.length / verify).toFixed(1)} × anchor
  PrepareProposal (execute)   ${us(prep, kept.length)} µs/tx  (${kept.length} txs fit the block gas limit)
  Process+FinalizeBlock       ${us(fin, kept.length)} µs/tx  (candidate reused)
  Commit                      ${com.toFixed(1).padStart(5)} ms per block
  RECHECK                     ${us(re, rest.length)} µs/tx
`)
