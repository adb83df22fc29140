/**
 * Outcomes as values: pipeline steps and destinations return one of these instead of throwing.
 * Throwing is for programmer errors only.
 */
import type { ErrorCode } from './errors.js';

export type Outcome<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'retry'; reason: string; afterMs?: number }
  | { kind: 'drop'; code: ErrorCode; reason: string }
  | { kind: 'dead'; error: string };

export const ok = <T>(value: T): Outcome<T> => ({ kind: 'ok', value });
export const drop = <T>(code: ErrorCode, reason: string): Outcome<T> => ({ kind: 'drop', code, reason });
