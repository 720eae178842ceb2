/** The staking and fee denomination: 1 BERYL = 1 000 000 uberyl. */
export const DENOM = 'uberyl'
