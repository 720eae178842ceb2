import assert from 'node:assert/strict'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { GasPrice, SigningStargateClient } from '@cosmjs/stargate'
import { berylRegistry } from '../../sdk/index.ts'
import { runBeryld, startTestNode, type TestNode } from '../helpers/node.ts'

const MODEL = '12'.repeat(32)

const beryld = runBeryld

describe('staking on a real node: CLI and cosmjs with the Beryl registry', function () {
  this.timeout(120_000)
  let node: TestNode
  before(async () => {
    node = await startTestNode({ accounts: 2 })
  })
  after(async () => {
    await node?.cleanup()
  })

  it('beryld tx staking join, then query staking node/nodes/params', async () => {
    const common = ['--home', node.home, '--keyring-backend', 'test', '-o', 'json']
    const j = await beryld([
      'tx',
      'staking',
      'join',
      'account1',
      '--gpu-name',
      'NVIDIA GeForce RTX 4090',
      '--gpu-vram',
      '24',
      '--models',
      MODEL,
      '--stake',
      '500beryl',
      ...common,
    ])
    assert.equal(j.code, 0, j.stderr + j.stdout)
    assert.equal(JSON.parse(j.stdout).code, 0)
    const n = JSON.parse((await beryld(['query', 'staking', 'node', node.accounts[0]!.address, '--home', node.home, '-o', 'json'])).stdout)
    assert.equal(n.status, 'NODE_STATUS_AVAILABLE')
    assert.equal(n.stake, '500000000')
    assert.deepEqual(n.modelIds, [MODEL])
    const list = JSON.parse((await beryld(['query', 'staking', 'nodes', '--status', 'available', '--home', node.home, '-o', 'json'])).stdout)
    assert.equal(list.nodes.length, 1)
    const p = JSON.parse((await beryld(['query', 'staking', 'params', '--home', node.home, '-o', 'json'])).stdout)
    assert.equal(p.minStake, '400000000')
    const low = await beryld([
      'tx',
      'staking',
      'join',
      'account2',
      '--gpu-name',
      'x',
      '--gpu-vram',
      '8',
      '--models',
      MODEL,
      '--stake',
      '1beryl',
      '--gas',
      '300000',
      ...common,
    ])
    assert.equal(low.code, 1)
    assert.equal(JSON.parse(low.stdout).code, 4)
  })

  it('SigningStargateClient with berylRegistry() signs Beryl messages (pause, resume)', async () => {
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(node.accounts[0]!.mnemonic, { prefix: 'beryl' })
    const client = await SigningStargateClient.connectWithSigner(node.rpc, wallet, { registry: berylRegistry(), gasPrice: GasPrice.fromString('0.025uberyl') })
    const address = node.accounts[0]!.address
    try {
      const r = await client.signAndBroadcast(address, [{ typeUrl: '/beryl.staking.v1.MsgPause', value: { address } }], 'auto')
      assert.equal(r.code, 0, r.rawLog)
      assert.ok(r.events.some((e) => e.type === 'node_status' && e.attributes.some((a) => a.key === 'to' && a.value === 'NODE_STATUS_PAUSED')))
      assert.equal(r.msgResponses[0]?.typeUrl, '/beryl.staking.v1.MsgPauseResponse')
      const again = await client.signAndBroadcast(address, [{ typeUrl: '/beryl.staking.v1.MsgResume', value: { address } }], 'auto')
      assert.equal(again.code, 0, again.rawLog)
    } finally {
      client.disconnect()
    }
  })
})
