/**
 * Every rejection carries a codespace and a code (Cosmos conventions) and a message a person can
 * act on. Modules register their own errors with their module name as codespace, codes from 2.
 */
export class ChainError extends Error {
  constructor(
    readonly codespace: string,
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
  /** A copy with context in front of the message, like the SDK's `errors.Wrap`. */
  wrap(context: string): ChainError {
    return new ChainError(this.codespace, this.code, `${context}: ${this.message}`)
  }
}

export class ErrorKind {
  constructor(
    readonly codespace: string,
    readonly code: number,
    readonly description: string,
  ) {}
  /** `new ChainError` whose log reads "<detail>: <description>", as the SDK prints it. */
  with(detail?: string): ChainError {
    return new ChainError(this.codespace, this.code, detail ? `${detail}: ${this.description}` : this.description)
  }
  is(err: unknown): err is ChainError {
    return err instanceof ChainError && err.codespace === this.codespace && err.code === this.code
  }
}

const registered = new Map<string, ErrorKind>()
export function registerError(codespace: string, code: number, description: string): ErrorKind {
  const id = `${codespace}/${code}`
  if (registered.has(id)) throw new Error(`error ${id} registered twice`)
  const kind = new ErrorKind(codespace, code, description)
  registered.set(id, kind)
  return kind
}

/** The SDK's root errors (codespace "sdk"), with the numbers clients and explorers know. */
export const SdkErrors = {
  TxDecode: registerError('sdk', 2, 'tx parse error'),
  InvalidSequence: registerError('sdk', 3, 'invalid sequence'),
  Unauthorized: registerError('sdk', 4, 'unauthorized'),
  InsufficientFunds: registerError('sdk', 5, 'insufficient funds'),
  UnknownRequest: registerError('sdk', 6, 'unknown request'),
  InvalidAddress: registerError('sdk', 7, 'invalid address'),
  InvalidPubKey: registerError('sdk', 8, 'invalid pubkey'),
  UnknownAddress: registerError('sdk', 9, 'unknown address'),
  InvalidCoins: registerError('sdk', 10, 'invalid coins'),
  OutOfGas: registerError('sdk', 11, 'out of gas'),
  MemoTooLarge: registerError('sdk', 12, 'memo too large'),
  InsufficientFee: registerError('sdk', 13, 'insufficient fee'),
  TooManySignatures: registerError('sdk', 14, 'maximum number of signatures exceeded'),
  NoSignatures: registerError('sdk', 15, 'no signatures supplied'),
  InvalidRequest: registerError('sdk', 18, 'invalid request'),
  TxInMempoolCache: registerError('sdk', 19, 'tx already in mempool'),
  TxTooLarge: registerError('sdk', 21, 'tx too large'),
  KeyNotFound: registerError('sdk', 22, 'key not found'),
  InvalidHeight: registerError('sdk', 26, 'invalid height'),
  InvalidChainID: registerError('sdk', 28, 'invalid chain-id'),
  InvalidType: registerError('sdk', 29, 'invalid type'),
  TxTimeoutHeight: registerError('sdk', 30, 'tx timeout height'),
  UnknownExtensionOptions: registerError('sdk', 31, 'unknown extension options'),
  WrongSequence: registerError('sdk', 32, 'incorrect account sequence'),
  UnpackAny: registerError('sdk', 34, 'failed unpacking protobuf message from Any'),
  Logic: registerError('sdk', 35, 'internal logic error'),
  NotSupported: registerError('sdk', 37, 'feature not supported'),
  NotFound: registerError('sdk', 38, 'not found'),
  InvalidGasLimit: registerError('sdk', 41, 'invalid gas limit'),
} as const

/**
 * The one error type of the pure rule files (sampling, validation, settlement, QoS math): a
 * machine-readable code and a message. Rule files load without state; the module that calls them
 * turns a RuleError into one of its registered chain errors.
 */
export class RuleError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message)
    this.name = 'RuleError'
  }
}

/** Turns anything thrown during execution into a coded error; unknown throwables become code 1 with a generic log. */
export function toChainError(err: unknown): ChainError {
  if (err instanceof ChainError) return err
  return new ChainError('undefined', 1, `internal error: ${(err as Error)?.message ?? String(err)}`)
}
