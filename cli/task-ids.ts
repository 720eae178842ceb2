import path from 'node:path'
import { TaskKeyStore } from '../sdk/keystore.ts'

/**
 * The commitment to show for what a user typed: `task run` prints a task id (secret until validation)
 * and the members' commitments; both are 64 hex digits. A task id this home ran (its key store in
 * `<home>/sdk-tasks`) is its first task's commitment; anything else is taken as a commitment.
 */
export function commitmentFor(home: string, arg: string): string {
  const s = arg.trim().toLowerCase().replace(/^0x/, '')
  if (!/^[0-9a-f]{64}$/.test(s)) return arg
  const stored = new TaskKeyStore(path.join(home, 'sdk-tasks')).load(s)
  return stored?.members[0]?.commitment ?? s
}
