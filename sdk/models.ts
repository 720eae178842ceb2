// The SDK's default model per task kind: the bundled models every worker builds on first start
// (worker/models/). Constants here, so that an application never loads the model builder; the
// worker imports them and refuses a build whose ids differ, and test/unit/runners.test.ts checks
// that the builder produces exactly these ids.

/**
 * Model ids (sha256 of the canonical manifest, docs/decisions/0007) of the bundled models. A
 * different id would mean the builder no longer emits the same bytes (a code change, or a
 * platform difference), which would split the network; update these only together with a
 * deliberate builder change.
 */
export const BUNDLED_MODEL_IDS: Readonly<Record<'image' | 'text', string>> = {
  image: '30426b3888929dbe1d8c83652cd84e7d5ce564a1ff4f297a397c44ad23913462',
  text: 'e6a2adc7998e55e8dcb1fe8192005638971c1c446a8f15a2f0aca9ca704f57be',
}

/**
 * SmolLM2-135M-Instruct as `beryld worker models add smollm2` converts it (worker/models/gguf-install.ts refuses a
 * conversion with another id, and test/unit/smollm2.test.ts checks it).
 */
export const SMOLLM2_MODEL_ID = '4b8d50f10c1bca556c55d3842ca9b05403fb2642449c6e860b8f9c564da7d2f5'
