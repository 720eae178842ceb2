// How the CLI prints the chain's 18-decimal fixed-point values (QoS, health, rates, probabilities).
const E18 = 10n ** 18n

/** An 18-decimal fixed-point value as a number with 4 decimals, e.g. "0.9500". */
export const fixed4 = (v: string) => (Number((BigInt(v || '0') * 10_000n) / E18) / 10_000).toFixed(4)

/** An 18-decimal fixed-point fraction as a percentage with 4 decimals, e.g. "1.0000%". */
export const percent = (v: string) => `${(Number(BigInt(v) * 1_000_000n / E18) / 10_000).toFixed(4)}%`
