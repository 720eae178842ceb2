import assert from 'node:assert/strict'
import { createServer, type AddressInfo } from 'node:net'
import { StargateClient } from '@cosmjs/stargate'
import { isUnreachable } from '../../../sdk/client.ts'
import { TaskTxError } from '../../../sdk/errors.ts'

/** The error a real client call gives against a port that resets every connection, or that nothing listens on. */
async function errorOf(f: () => Promise<unknown>): Promise<unknown> {
  try {
    await f()
  } catch (err) {
    return err
  }
  throw new Error('expected the call to fail')
}

describe('SDK: which failures are "the node could not be reached" (polled again) and which are answers (not)', () => {
  it('a connection reset by the node, and a refused connection, through cosmjs and undici, are unreachable', async () => {
    const server = createServer((s) => s.resetAndDestroy())
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as AddressInfo).port
    try {
      const reset = await errorOf(() => StargateClient.connect(`http://127.0.0.1:${port}`))
      assert.equal(isUnreachable(reset), true, String(reset))
    } finally {
      await new Promise((r) => server.close(r))
    }
    const refused = await errorOf(() => fetch(`http://127.0.0.1:${port}/status`))
    assert.equal(isUnreachable(refused), true, String(refused))
  })

  it("the chain's answers are not: a refused transaction, a query error, a programming error", () => {
    assert.equal(isUnreachable(new TaskTxError('validating failed: task is not in ScoreReady', 'ab', 5, 'task is not in ScoreReady')), false)
    assert.equal(isUnreachable(new Error('Query failed with (18): invalid request')), false)
    assert.equal(isUnreachable(new TypeError("Cannot read properties of undefined (reading 'status')")), false)
    assert.equal(
      isUnreachable(new TaskTxError('validating failed: connection timed out upstream (ECONNRESET)', 'ab', 5, '')),
      false,
      "the chain's refusal, whatever it says",
    )
  })
})
