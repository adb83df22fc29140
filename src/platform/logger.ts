/**
 * Structured JSON logs (pino). Personal data never goes into a log line: callers log ids of
 * workspaces/sources/profiles and counts, never event payloads, IPs, emails or user ids. The
 * redact list is a safety net for the field names most likely to carry personal data.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  '*.email', '*.phone', '*.ip', '*.userId', '*.anonymousId', '*.traits', '*.properties', '*.context',
  'req.headers.authorization', 'req.headers["x-write-key"]', 'req.remoteAddress', 'req.ip',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { service: 'ensemble' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    destination ?? process.stdout,
  );
}
