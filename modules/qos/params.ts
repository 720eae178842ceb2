/**
 * qos has no genesis parameters: its numbers (the 50-score window, τ = 30 min, ×0.95 / ×0.3 on
 * timeouts, +0.15 on success, exclusion below 0.2 until 0.8, kick-out below Q_long 2.0) are Crynux's
 * relay values, constants of the rules in math.ts.
 */
export {}
