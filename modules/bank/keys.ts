// Store layout of the bank module (keys under "bank/"): every prefix in one place.
/** 0x00 | denom → total supply (decimal ASCII) */
export const SUPPLY_PREFIX = Uint8Array.of(0x00)
/** 0x02 | len(addr) | addr | denom → amount (decimal ASCII) */
export const BALANCE_PREFIX = Uint8Array.of(0x02)

// Balance keys are built on every transfer: byte by byte, since Buffer.concat and Buffer.from(string) take
// slices of Node's shared pool, whose refills cost more than the rest of the key.
const denoms = new Map<string, Uint8Array>()
const denomBytes = (denom: string): Uint8Array => {
  let b = denoms.get(denom)
  if (!b) {
    if (denoms.size >= 1024) denoms.clear()
    denoms.set(denom, (b = new Uint8Array(Buffer.from(denom, 'utf8'))))
  }
  return b
}
const addressKey = (prefix: Uint8Array, addr: Uint8Array, extra: number): Uint8Array => {
  const k = new Uint8Array(2 + addr.length + extra)
  k[0] = prefix[0]!
  k[1] = addr.length
  k.set(addr, 2)
  return k
}
export const balancePrefix = (addr: Uint8Array) => addressKey(BALANCE_PREFIX, addr, 0)
export const balanceKey = (addr: Uint8Array, denom: string) => {
  const d = denomBytes(denom)
  const k = addressKey(BALANCE_PREFIX, addr, d.length)
  k.set(d, 2 + addr.length)
  return k
}
export const supplyKey = (denom: string) => Buffer.concat([SUPPLY_PREFIX, Buffer.from(denom, 'utf8')])
