import assert from 'node:assert/strict'
import { FrameError, FrameReader, encodeUvarint, frame } from '../../../chain/abci/framing.ts'
import { CacheStore } from '../../../chain/store/cache.ts'
import { MemoryStore } from '../../../chain/store/memory.ts'
import { PrefixStore } from '../../../chain/store/prefix.ts'
import { GasMeter, GasStore } from '../../../chain/gas.ts'

const b = (s: string) => Buffer.from(s)
const s = (u: Uint8Array) => Buffer.from(u).toString()
async function collect(it: AsyncIterable<[Uint8Array, Uint8Array]>) {
  const out: string[] = []
  for await (const [k, v] of it) out.push(`${s(k)}=${s(v)}`)
  return out
}

describe('ABCI framing', () => {
  it('encodes unsigned varint lengths (300 → ac 02)', () => {
    assert.deepEqual([...encodeUvarint(300)], [0xac, 0x02])
    assert.deepEqual([...frame(new Uint8Array([0x1a, 0x00]))], [0x02, 0x1a, 0x00])
  })
  it('yields frames split across chunks and several frames in one chunk', () => {
    const r = new FrameReader(1000)
    const all = Buffer.concat([frame(b('hello')), frame(new Uint8Array(300).fill(7)), frame(b(''))])
    const got: Uint8Array[] = []
    for (let i = 0; i < all.length; i += 7) got.push(...r.push(all.subarray(i, i + 7)))
    assert.equal(got.length, 3)
    assert.equal(s(got[0]!), 'hello')
    assert.equal(got[1]!.length, 300)
    assert.equal(got[2]!.length, 0)
    assert.equal(r.buffered, 0)
  })
  it('rejects a frame above the limit and an endless varint', () => {
    assert.throws(() => new FrameReader(100).push(Buffer.from(encodeUvarint(101))), FrameError)
    assert.throws(() => new FrameReader(2 ** 40).push(Buffer.alloc(11, 0x80)), FrameError)
  })
})

describe('store layers', () => {
  it('a cache overlay reads through, shadows, deletes and writes back in one step', () => {
    const base = new MemoryStore()
    base.set(b('a'), b('1'))
    base.set(b('b'), b('2'))
    const c = new CacheStore(base)
    c.set(b('a'), b('9'))
    c.delete(b('b'))
    c.set(b('c'), b('3'))
    assert.equal(s(c.get(b('a'))!), '9')
    assert.equal(c.get(b('b')), undefined)
    assert.equal(s(base.get(b('a'))!), '1')
    c.writeTo()
    assert.equal(s(base.get(b('a'))!), '9')
    assert.equal(base.get(b('b')), undefined)
    assert.equal(s(base.get(b('c'))!), '3')
  })
  it('dropping an overlay leaves nothing behind', () => {
    const base = new MemoryStore()
    const c = new CacheStore(base)
    c.set(b('x'), b('1'))
    assert.equal(base.get(b('x')), undefined)
  })
  it('iteration merges overlay and parent in key order, forward and reverse, with limits', async () => {
    const base = new MemoryStore()
    for (const k of ['a', 'c', 'e', 'g']) base.set(b(k), b('p'))
    const c = new CacheStore(base)
    c.set(b('b'), b('o'))
    c.set(b('e'), b('o'))
    c.delete(b('c'))
    c.set(b('h'), b('o'))
    assert.deepEqual(await collect(c.iterate()), ['a=p', 'b=o', 'e=o', 'g=p', 'h=o'])
    assert.deepEqual(await collect(c.iterate({ reverse: true })), ['h=o', 'g=p', 'e=o', 'b=o', 'a=p'])
    assert.deepEqual(await collect(c.iterate({ start: b('b'), end: b('g') })), ['b=o', 'e=o'])
    assert.deepEqual(await collect(c.iterate({ limit: 2 })), ['a=p', 'b=o'])
    const nested = new CacheStore(c)
    nested.delete(b('a'))
    nested.set(b('f'), b('n'))
    assert.deepEqual(await collect(nested.iterate()), ['b=o', 'e=o', 'f=n', 'g=p', 'h=o'])
  })
  it('a prefix store sees only its keys, without the prefix', async () => {
    const base = new MemoryStore()
    base.set(b('bank/x'), b('1'))
    base.set(b('bankz'), b('2'))
    base.set(b('auth/y'), b('3'))
    const p = new PrefixStore(base, b('bank/'))
    assert.deepEqual(await collect(p.iterate()), ['x=1'])
    p.set(b('q'), b('4'))
    assert.equal(s(base.get(b('bank/q'))!), '4')
  })
  it('a gas store charges reads and writes and stops at the limit', () => {
    const meter = new GasMeter(5000n)
    const g = new GasStore(new MemoryStore(), meter)
    g.set(b('k'), b('v')) // 2000 + 30*2
    assert.equal(meter.consumed, 2060n)
    g.get(b('k')) // 1000 + 3*2
    assert.equal(meter.consumed, 3066n)
    assert.throws(() => g.set(b('k2'), b('v')), /out of gas/)
  })
})
