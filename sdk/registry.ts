import { Registry, type GeneratedType } from '@cosmjs/proto-signing'
import { defaultRegistryTypes } from '@cosmjs/stargate'
import * as stakingTx from '../proto/gen/beryl/staking/v1/tx.ts'
import * as taskTx from '../proto/gen/beryl/task/v1/tx.ts'
import * as validatorTx from '../proto/gen/beryl/validator/v1/tx.ts'

/** Every Beryl message, by type URL (the chain's own protobuf types from proto/). */
export const berylTypes: ReadonlyArray<[string, GeneratedType]> = [
  // ts-proto types satisfy cosmjs at runtime (encode/decode/fromPartial); the cast bridges the
  // CJS/ESM declarations of @bufbuild/protobuf's writer that TypeScript sees as different types.
  ...(['MsgJoin', 'MsgAddStake', 'MsgUpdateModels', 'MsgPause', 'MsgResume', 'MsgQuit'] as const).map(
    (name) => [`/beryl.staking.v1.${name}`, stakingTx[name] as unknown as GeneratedType] as [string, GeneratedType],
  ),
  ...(['MsgCreateTask', 'MsgCancelTask', 'MsgSubmitScore', 'MsgRevealResult', 'MsgValidateTask', 'MsgAttestResult'] as const).map(
    (name) => [`/beryl.task.v1.${name}`, taskTx[name] as unknown as GeneratedType] as [string, GeneratedType],
  ),
  ...(['MsgCreateValidator', 'MsgEditValidator', 'MsgBond', 'MsgUnbond', 'MsgUnjail', 'MsgWithdrawRewards'] as const).map(
    (name) => [`/beryl.validator.v1.${name}`, validatorTx[name] as unknown as GeneratedType] as [string, GeneratedType],
  ),
]

/** A cosmjs Registry holding the Cosmos defaults and every Beryl message, for SigningStargateClient. */
export function berylRegistry(): Registry {
  return new Registry([...defaultRegistryTypes, ...berylTypes])
}
