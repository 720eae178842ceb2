// The entry of the bundled beryld (scripts/build-cli.mjs, dist/beryld.mjs): the polyfill first (the bundle keeps this
// order), then the same program as cli/main.ts, always run.
import '../chain/polyfill.ts'
import { run } from './main.ts'

run()
