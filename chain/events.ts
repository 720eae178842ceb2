import type { Event } from 'cosmjs-types/tendermint/abci/types'

export type { Event }

/** Builds an event whose attributes are all indexed, so CometBFT's tx_search can find them. */
export function event(type: string, attrs: Record<string, string>, msgIndex?: number): Event {
  const attributes = Object.entries(attrs).map(([key, value]) => ({ key, value, index: true }))
  if (msgIndex !== undefined) attributes.push({ key: 'msg_index', value: String(msgIndex), index: true })
  return { type, attributes }
}
