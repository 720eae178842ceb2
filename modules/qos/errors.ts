/**
 * qos rejects nothing: it has no messages, and its state changes only through task outcomes. Its
 * pure rules throw RuleError('INVALID_ARGUMENT') on an impossible argument (math.ts).
 */
export const MODULE = 'qos'
