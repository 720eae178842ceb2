import assert from 'node:assert/strict'
import { mergeParams } from '../../../chain/genesis.ts'
import { Params } from '../../../proto/gen/beryl/task/v1/types.ts'
import { DEFAULT_TASK_PARAMS } from '../../../modules/task/index.ts'
import { Params as VssParams } from '../../../proto/gen/beryl/vss/v1/types.ts'
import { DEFAULT_PARAMS as DEFAULT_VSS_PARAMS } from '../../../modules/vss/params.ts'

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
  it('a boolean is true or false, as JSON or as the string --set passes: proto3 JSON alone would read "false" as true', () => {
    const split = (v: unknown) => mergeParams(VssParams, DEFAULT_VSS_PARAMS, { split_group_fee: v }, 'vss').splitGroupFee
    assert.equal(DEFAULT_VSS_PARAMS.splitGroupFee, false)
    assert.equal(VssParams.fromJSON({ splitGroupFee: 'false' }).splitGroupFee, true, 'the trap this guards against')
    assert.equal(split('false'), false)
    assert.equal(split(false), false)
    assert.equal(split('true'), true)
    assert.equal(split(true), true)
    for (const bad of ['yes', 1, '', null]) assert.throws(() => split(bad), /vss\.params\.split_group_fee must be true or false/)
  })
})
