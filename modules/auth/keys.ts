// Store layout of the auth module (keys under "auth/"): every prefix in one place.
export const PARAMS_KEY = Uint8Array.of(0x00)
/** 0x01 | address bytes → module or base account (protobuf Any bytes, returned unchanged by queries) */
export const ACCOUNT_PREFIX = Uint8Array.of(0x01)
/** → the next account number (decimal ASCII) */
export const NEXT_NUMBER_KEY = Uint8Array.of(0x02)

export const accountKey = (addr: Uint8Array) => {
  const k = new Uint8Array(1 + addr.length)
  k[0] = ACCOUNT_PREFIX[0]!
  k.set(addr, 1)
  return k
}
