import { SdkErrors } from '../../chain/errors.ts'

export const MODULE = 'auth'

/**
 * auth raises only the SDK's root errors (codespace "sdk"), as the Cosmos SDK's x/auth does; queries
 * answer gRPC NotFound the way cosmjs and the SDK expect ("rpc error: code = NotFound …: key not found").
 */
export const notFound = (what: string) => SdkErrors.KeyNotFound.with(`rpc error: code = NotFound desc = ${what} not found`)
