import { BinaryWriter } from 'cosmjs-types/binary'

// Node 20 lacks Promise.withResolvers, which libp2p v3 and its helpers call.
// This module must be loaded before any libp2p code runs (see bin/beryld and .mocharc.json).
declare global {
  interface PromiseConstructor {
    withResolvers<T>(): { promise: Promise<T>; resolve: (v: T | PromiseLike<T>) => void; reject: (r?: unknown) => void }
  }
}
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  ;(Promise as unknown as { withResolvers: unknown }).withResolvers = function <T>() {
    let resolve!: (v: T | PromiseLike<T>) => void
    let reject!: (r?: unknown) => void
    const promise = new Promise<T>((res, rej) => {
      resolve = res
      reject = rej
    })
    return { promise, resolve, reject }
  }
}

// cosmjs-types 0.11's BinaryWriter.alloc builds a fresh 8 KiB pool on every call, so each message it
// encodes (accounts on every tx, coins, ABCI responses) allocates and keeps alive 8 KiB for a few bytes.
// A plain allocation of the right size gives the same bytes.
BinaryWriter.alloc = (size: number) => new Uint8Array(size)

export {}
