// The worker's task runners. Both take raw task args (validated here), the
// model folder (`<home>/models`) and runner options, and return the result
// bytes a node stores and fingerprints: PNG files for image tasks (pHash per
// image), one JSON file for text tasks (sha256).
export { type ImageTaskResult, type ImageTokenizer, registerImageTokenizer, runImageTask, splitWords, tokenizeWordHash } from './image.ts'
export { runTextTask, type ChatCompletion, type TextTaskResult, encodeChat } from './text.ts'
export {
  ArgsError,
  type ChatMessage,
  type ImageArgs,
  IMAGE_LIMITS,
  type JsonSchema,
  type TextArgs,
  TEXT_LIMITS,
  imageArgsSchema,
  textArgsSchema,
  validateImageArgs,
  validateTextArgs,
} from '../../modules/task/schema.ts'
export { type ExecutionProvider, type RunnerOptions, releaseSessions } from './session.ts'
export { DdimScheduler } from './scheduler.ts'
export { resolveModel } from './resolve.ts'
