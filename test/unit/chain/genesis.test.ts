import assert from 'node:assert/strict'
import { mergeParams } from '../../../chain/genesis.ts'
import { Params } from '../../../proto/gen/beryl/task/v1/types.ts'
import { DEFAULT_TASK_PARAMS } from '../../../modules/task/index.ts'

describe('genesis parameters', () => {
  it('snake_case and camelCase names override the defaults; the rest stay default', () => {
    const p = mergeParams(Params, DEFAULT_TASK_PARAMS, { protocol_fee_share: '5', queueTimeout: '99' }, 'task')
    assert.equal(p.protocolFeeShare, '5')
    assert.equal(p.queueTimeout, 99n)
    assert.equal(p.revealWindow, DEFAULT_TASK_PARAMS.revealWindow)
  })
  it('an unknown name is an error naming it', () => {
    assert.throws(() => mergeParams(Params, DEFAULT_TASK_PARAMS, { protocol_fee_shar: '5' }, 'task'), /task\.params: unknown parameter "protocol_fee_shar"/)
  })
})
