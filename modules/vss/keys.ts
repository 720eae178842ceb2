// Store layout of the vss module (keys under "vss/"): every prefix in one place.
export const PARAMS_KEY = Uint8Array.of(0x00)
