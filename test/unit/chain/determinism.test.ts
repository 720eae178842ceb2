import fs from 'node:fs'
import assert from 'node:assert/strict'
import { CacheStore } from '../../../chain/store/cache.ts'
import { LtHash } from '../../../chain/store/lthash.ts'
import { MemoryStore } from '../../../chain/store/memory.ts'
import { nextLtHash } from '../../../chain/store/leveldb.ts'
import { blockRequest, initChain, openApp, send, wallets } from '../../helpers/chain.ts'

describe('determinism: the app hash is a function of the blocks alone', function () {
  this.timeout(60_000)

  it('the same blocks applied to two fresh LevelDB stores give the same app hash at every height', async () => {
    const w = await wallets()
    const addrs = w.map((x) => x.address)
    const a = await openApp()
    const b = await openApp()
    try {
      const ga = await initChain(a.app, addrs)
      const gb = await initChain(b.app, addrs)
      assert.deepEqual(ga.appHash, gb.appHash)
      const seq = [0, 0, 0]
      const hashes: string[] = []
      for (let h = 1n; h <= 8n; h++) {
        const txs: Uint8Array[] = []
        for (let i = 0; i < 3; i++) {
          const from = w[i]!,
            to = w[(i + 1 + Number(h)) % 3]!
          txs.push(await from.sign([send(from.address, to.address, String(100n * h + BigInt(i)))], seq[i]!++))
        }
        if (h === 4n) txs.push(new Uint8Array([1, 2, 3])) // a junk tx: rejected the same way everywhere
        const req = blockRequest(h, txs)
        // Node A goes through ProcessProposal (candidate reuse); node B executes in FinalizeBlock.
        assert.equal((await a.app.processProposal(req)).status, h === 4n ? 2 : 1)
        const ra = await a.app.finalizeBlock(req)
        const rb = await b.app.finalizeBlock(req)
        assert.deepEqual(ra.appHash, rb.appHash, `app hash at height ${h}`)
        assert.deepEqual(
          ra.txResults!.map((r) => [r.code, r.gasUsed]),
          rb.txResults!.map((r) => [r.code, r.gasUsed]),
        )
        await a.app.commit()
        await b.app.commit()
        hashes.push(Buffer.from(ra.appHash!).toString('hex'))
        assert.deepEqual(a.app.info({} as never).lastBlockAppHash, ra.appHash)
      }
      assert.equal(new Set(hashes).size, hashes.length, 'every block changed the state, so every app hash differs')
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('reopening the store reports the last committed height and app hash (Info)', async () => {
    const w = await wallets()
    const a = await openApp()
    const dir = a.dir
    await initChain(
      a.app,
      w.map((x) => x.address),
    )
    const r = await a.app.finalizeBlock(blockRequest(1n, [await w[0]!.sign([send(w[0]!.address, w[1]!.address, '5')], 0)]))
    await a.app.commit()
    await a.store.close()
    const again = await openApp(dir)
    try {
      const info = again.app.info({} as never)
      assert.equal(info.lastBlockHeight, 1n)
      assert.deepEqual(info.lastBlockAppHash, r.appHash)
    } finally {
      await again.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('writing the same keys in another order inside a block gives the same app hash', () => {
    const base = new MemoryStore()
    const entries: Array<[string, string]> = Array.from({ length: 50 }, (_, i) => [`key/${(i * 7919) % 101}`, `value-${i}`])
    const one = new CacheStore(base),
      two = new CacheStore(base)
    for (const [k, v] of entries) one.set(Buffer.from(k), Buffer.from(v))
    for (const [k, v] of [...entries].reverse()) two.set(Buffer.from(k), Buffer.from(v))
    const h1 = nextLtHash(new LtHash(), base, one.changes()).digest()
    const h2 = nextLtHash(new LtHash(), base, two.changes()).digest()
    assert.deepEqual(h1, h2)
  })

  it('the app hash commits to the whole state, not to the history that produced it', () => {
    const lt1 = new LtHash(),
      lt2 = new LtHash()
    lt1.add(Buffer.from('a'), Buffer.from('1'))
    lt1.add(Buffer.from('b'), Buffer.from('2'))
    lt2.add(Buffer.from('b'), Buffer.from('9'))
    lt2.add(Buffer.from('a'), Buffer.from('1'))
    lt2.remove(Buffer.from('b'), Buffer.from('9'))
    lt2.add(Buffer.from('b'), Buffer.from('2'))
    assert.deepEqual(lt1.digest(), lt2.digest())
    const lt3 = lt1.clone()
    lt3.add(Buffer.from('c'), Buffer.from(''))
    assert.notDeepEqual(lt3.digest(), lt1.digest(), 'an added key changes the hash')
    const lt4 = new LtHash()
    lt4.add(Buffer.from('a'), Buffer.from('1'))
    lt4.add(Buffer.from('b'), Buffer.from('3'))
    assert.notDeepEqual(lt4.digest(), lt1.digest(), 'a changed value changes the hash')
    // Key/value boundaries are part of the entry: ("ab","c") and ("a","bc") differ.
    const x = new LtHash()
    x.add(Buffer.from('ab'), Buffer.from('c'))
    const y = new LtHash()
    y.add(Buffer.from('a'), Buffer.from('bc'))
    assert.notDeepEqual(x.digest(), y.digest())
  })

  it('the LtHash state round-trips through its byte form', () => {
    const lt = new LtHash()
    for (let i = 0; i < 10; i++) lt.add(Buffer.from([i]), Buffer.from([i, i]))
    assert.deepEqual(new LtHash(lt.toBytes()).digest(), lt.digest())
  })
})
