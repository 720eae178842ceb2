/**
 * vss has no messages, so it registers no errors: its queries answer with the SDK's root errors,
 * and its pure rules throw SamplingError (sampling.ts), which the task module turns into its own codes.
 */
export const MODULE = 'vss'
