import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { PubKey } from 'cosmjs-types/cosmos/crypto/secp256k1/keys'
import { SignMode } from 'cosmjs-types/cosmos/tx/signing/v1beta1/signing'
import { AuthInfo, SignDoc, TxBody, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx'
import { BerylApp } from '../chain/app.ts'
import { CommittedStore } from '../chain/store/leveldb.ts'
import { BECH32_PREFIX, DENOM, berylModules, type BerylModules } from '../modules/index.ts'
import { SIM_MAX_GAS, type Identity, type RecordedBlock } from './chain.ts'

export interface ReplayInput {
  chainId: string
  genesisTime: bigint
  appState: Record<string, unknown>
  blocks: RecordedBlock[]
  identities: Map<string, Identity>
  txFee: bigint
  txGas: bigint
  /** The same mechanism patches the twin ran with (fast VRF, Crynux's fixed rate). */
  patchKeepers?: (m: BerylModules) => void
}

export interface ReplayResult {
  blocks: number
  /** Heights whose app hash differs from the twin's (empty when the replay agrees). */
  mismatches: bigint[]
  lastAppHash: Uint8Array
}

/**
 * Replays a twin's recorded blocks through the real ABCI application: BerylApp on LevelDB, each tx
 * signed (SIGN_MODE_DIRECT, the account's number and sequence) with its signer's key, then
 * InitChain, FinalizeBlock and Commit exactly as CometBFT would call them. Every block's app hash
 * is compared with the one the twin computed.
 */
export async function replayThroughApp(input: ReplayInput): Promise<ReplayResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-sim-replay-'))
  const store = await CommittedStore.open(path.join(dir, 'application.db'))
  try {
    const mods = berylModules()
    input.patchKeepers?.(mods)
    const app = new BerylApp(store, { modules: mods.modules, ante: mods.ante, bech32Prefix: BECH32_PREFIX, feeDenom: DENOM })
    await app.initChain({
      time: { seconds: input.genesisTime, nanos: 0 },
      chainId: input.chainId,
      consensusParams: { block: { maxBytes: 22020096n, maxGas: SIM_MAX_GAS } } as never,
      validators: [],
      appStateBytes: Buffer.from(JSON.stringify(input.appState)),
      initialHeight: 1n,
    })
    const mismatches: bigint[] = []
    let last: Uint8Array = new Uint8Array()
    for (const b of input.blocks) {
      const txs = b.txs.map((tx) => {
        const id = input.identities.get(tx.signer)
        if (!id) throw new Error(`no key for ${tx.signer}`)
        const sequence = tx.sequence
        const bodyBytes = TxBody.encode(TxBody.fromPartial({ messages: tx.msgs })).finish()
        const authInfoBytes = AuthInfo.encode(
          AuthInfo.fromPartial({
            signerInfos: [
              {
                publicKey: { typeUrl: '/cosmos.crypto.secp256k1.PubKey', value: PubKey.encode({ key: id.publicKey }).finish() },
                modeInfo: { single: { mode: SignMode.SIGN_MODE_DIRECT } },
                sequence,
              },
            ],
            fee: { amount: input.txFee > 0n ? [{ denom: DENOM, amount: input.txFee.toString() }] : [], gasLimit: input.txGas },
          }),
        ).finish()
        const signDoc = SignDoc.encode({ bodyBytes, authInfoBytes, chainId: input.chainId, accountNumber: tx.accountNumber }).finish()
        const signature = secp256k1.sign(signDoc, id.secretKey, { lowS: true })
        return TxRaw.encode({ bodyBytes, authInfoBytes, signatures: [signature] }).finish()
      })
      const res = await app.finalizeBlock({
        txs,
        decidedLastCommit: { round: 0, votes: [] },
        misbehavior: [],
        hash: b.hash,
        height: b.height,
        time: { seconds: b.timeSeconds, nanos: 0 },
        nextValidatorsHash: new Uint8Array(32),
        proposerAddress: new Uint8Array(20).fill(7),
      } as never)
      await app.commit()
      last = res.appHash!
      if (!b.appHash || Buffer.compare(Buffer.from(res.appHash!), Buffer.from(b.appHash)) !== 0) mismatches.push(b.height)
    }
    return { blocks: input.blocks.length, mismatches, lastAppHash: last }
  } finally {
    await store.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
