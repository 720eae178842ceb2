import type { PageRequest, PageResponse } from 'cosmjs-types/cosmos/base/query/v1beta1/pagination'
import { SdkErrors } from './errors.ts'
import { prefixEnd, type KVStore } from './store/types.ts'

export const DEFAULT_PAGE_LIMIT = 100n
export const MAX_PAGE_LIMIT = 1000n

/**
 * Key-based pagination over one prefix (the SDK's `query.Paginate`): `next_key` continues where a
 * page ended. Offsets are supported but bounded, since skipping is linear.
 */
export async function paginate<T>(
  store: KVStore,
  prefix: Uint8Array,
  page: PageRequest | undefined,
  decode: (key: Uint8Array, value: Uint8Array) => T,
): Promise<{ items: T[]; pagination: PageResponse }> {
  const limit = page?.limit && page.limit > 0n ? page.limit : DEFAULT_PAGE_LIMIT
  if (limit > MAX_PAGE_LIMIT) throw SdkErrors.InvalidRequest.with(`page limit ${limit} exceeds ${MAX_PAGE_LIMIT}`)
  if (page?.key?.length && page.offset > 0n) throw SdkErrors.InvalidRequest.with('either offset or key may be given, not both')
  if ((page?.offset ?? 0n) > 10_000n) throw SdkErrors.InvalidRequest.with('offset above 10000; use next_key to page further')
  const reverse = page?.reverse ?? false
  const end = prefixEnd(prefix)
  const startKey = page?.key?.length ? Buffer.concat([prefix, page.key]) : undefined
  const range = reverse
    ? { start: prefix, end: startKey ? Buffer.concat([startKey, Uint8Array.of(0)]) : end, reverse: true }
    : { start: startKey ?? prefix, end }
  const items: T[] = []
  let skip = page?.offset ?? 0n
  let nextKey: Uint8Array = new Uint8Array()
  let total = 0n
  for await (const [k, v] of store.iterate(range)) {
    if (skip > 0n) {
      skip--
      total++
      continue
    }
    if (BigInt(items.length) === limit) {
      nextKey = k.subarray(prefix.length)
      if (!page?.countTotal) break
      total++
      continue
    }
    items.push(decode(k.subarray(prefix.length), v))
    total++
  }
  return { items, pagination: { nextKey, total: page?.countTotal ? total : 0n } }
}
