/**
 * Reading Google Ads API failures: the REST error body (`error.details[].errors[].errorCode`), the
 * `partialFailureError` of an addOperations answer (which operation failed, by index), and OAuth
 * token errors (`{ "error": "invalid_grant" }`). Only enum-like codes are kept — the messages can
 * echo request data, so they never reach a log or an outcome.
 */
import type { DeliveryOutcome } from '../../protocol/destination.js';
import { outcomeOfResponse } from '../http-outcome.js';

/** Codes the Google Ads API documents as transient: the same request may succeed later. */
const TRANSIENT = new Set([
  'CONCURRENT_MODIFICATION', // two jobs touching the same list at once (Customer Match troubleshooting guide)
  'TRANSIENT_ERROR',
  'INTERNAL_ERROR',
  'RESOURCE_EXHAUSTED',
  'RESOURCE_TEMPORARILY_EXHAUSTED',
]);

const CODE = /^[A-Za-z0-9_]{1,80}$/;

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export interface GoogleAdsError {
  code: string;
  /** Index of the failed operation in the request, when the failure names one. */
  operation?: number;
}

/** The errors of a `google.rpc.Status`-like object (`details[].errors[]` of GoogleAdsFailure). */
export function statusErrors(status: unknown): GoogleAdsError[] {
  const out: GoogleAdsError[] = [];
  for (const detail of list(record(status)?.details)) {
    for (const e of list(record(detail)?.errors)) {
      const err = record(e);
      // errorCode is a one-field object such as { "offlineUserDataJobError": "INVALID_SHA256_FORMAT" }.
      const code = Object.values(record(err?.errorCode) ?? {}).find((v): v is string => typeof v === 'string' && CODE.test(v));
      if (!code) continue;
      const path = list(record(err?.location)?.fieldPathElements).map(record);
      const op = path.find((p) => p?.fieldName === 'operations' && typeof p.index === 'number');
      out.push(op ? { code, operation: op.index as number } : { code });
    }
  }
  return out;
}

/** Error codes of a failed answer: Google Ads failure details, or an OAuth error string. */
export function errorCodes(body: unknown): string[] {
  const error = record(body)?.error;
  if (typeof error === 'string') return CODE.test(error) ? [error] : [];
  return statusErrors(error).map((e) => e.code);
}

/**
 * A non-2xx answer as an outcome: the shared status mapping first; a 4xx that Google marks as a
 * transient failure (e.g. CONCURRENT_MODIFICATION) is retried instead of dropped, and a drop
 * names its Google code so an operator sees why.
 */
export function failureOutcome(res: Response, body: unknown, now: number): DeliveryOutcome {
  const base = outcomeOfResponse(res, now);
  if (base.kind !== 'drop') return base;
  const codes = errorCodes(body);
  const transient = codes.find((c) => TRANSIENT.has(c));
  if (transient) return { kind: 'retry', reason: `google_ads:${transient}` };
  return codes[0] ? { kind: 'drop', reason: `${base.reason}:${codes[0]}` } : base;
}

/** One failed operation of a partial failure, as its item's outcome. */
export function operationOutcome(code: string): DeliveryOutcome {
  return TRANSIENT.has(code) ? { kind: 'retry', reason: `google_ads:${code}` } : { kind: 'drop', reason: `google_ads:${code}` };
}

/** Failed operations of an addOperations answer, by index (first error per operation). */
export function partialFailures(body: unknown): Map<number, string> {
  const out = new Map<number, string>();
  for (const e of statusErrors(record(body)?.partialFailureError)) {
    if (e.operation !== undefined && !out.has(e.operation)) out.set(e.operation, e.code);
  }
  return out;
}
