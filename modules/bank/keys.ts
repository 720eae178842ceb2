// Store layout of the bank module (keys under "bank/"): every prefix in one place.
/** 0x00 | denom → total supply (decimal ASCII) */
export const SUPPLY_PREFIX = Uint8Array.of(0x00)
/** 0x02 | len(addr) | addr | denom → amount (decimal ASCII) */
export const BALANCE_PREFIX = Uint8Array.of(0x02)

export const balancePrefix = (addr: Uint8Array) => Buffer.concat([BALANCE_PREFIX, Uint8Array.of(addr.length), addr])
export const balanceKey = (addr: Uint8Array, denom: string) => Buffer.concat([balancePrefix(addr), Buffer.from(denom, 'utf8')])
export const supplyKey = (denom: string) => Buffer.concat([SUPPLY_PREFIX, Buffer.from(denom, 'utf8')])
