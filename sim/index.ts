// The digital twin's public surface (what cli/sim.ts and the tests use).
export { run, resolveConfig, DEFAULTS, PRESETS, type SimConfig } from './scenario.ts'
export { runMatrix, markdown, reportJson, writeReport, estimate, verdict, type MatrixSpec, type MatrixResult, type Cell } from './report.ts'
export { render, profitVsFee, profitVsShare, latencyHistogram, heatmap } from './charts.ts'
export { ADVERSARIES, ADVERSARY_NAMES, type AdversaryName } from './agents/index.ts'
export { progressBar } from './progress.ts'
export { sweep, SWEEP_ALIASES, type SweepSpec } from './sweep.ts'
export { replayThroughApp } from './replay.ts'
export type { RunResult } from './results.ts'
