// The SDK's public entry. More (BerylClient, runTask) comes with the task flow.
export { berylRegistry, berylTypes } from './registry.ts'
