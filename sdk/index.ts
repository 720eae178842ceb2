// The SDK's public entry: everything an application needs to run verified tasks on Beryl.
// The polyfill comes first: libp2p (used to download outputs) needs Promise.withResolvers on Node 20.
import '../chain/polyfill.ts'
export { berylRegistry, berylTypes } from './registry.ts'
export { BerylClient, type BerylClientOptions, type Progress, type Requirements, type RunTaskOptions, type Stage, type TaskResult } from './client.ts'
export { BerylTaskError, OutputUnavailableError, TaskCancelledError, TaskEndedError, TaskTimeoutError, TaskTxError } from './errors.ts'
export { TaskKeyStore, type StoredTask } from './keystore.ts'
export { TxSender, type BroadcastResult, type TxSenderOptions } from './sender.ts'
export { downloadResult } from '../gateway/client.ts'
export { checkOutputs, fingerprint, outputKind } from './outputs.ts'
export { BUNDLED_MODEL_IDS, SMOLLM2_MODEL_ID } from './models.ts'
export { Task, TaskStatus, TaskType, AbortReason } from '../proto/gen/beryl/task/v1/types.ts'
export { imageArgsSchema, textArgsSchema, type ImageArgs, type TextArgs } from '../modules/task/schema.ts'
