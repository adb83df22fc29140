/**
 * Direct mail: letters printed and posted by a mailing house. Each batch becomes one
 * print-ready CSV file (csv.ts) uploaded to the house's HTTPS endpoint; the upload is the
 * delivery. Items whose profile has no postable address are dropped (`no_address`).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { DeliveryItem, DeliveryOutcome, DestinationManifest, MessageItem } from '../../protocol/destination.js';
import { sendAll } from '../http-outcome.js';
import { sha256Hex } from '../hashing.js';
import { directMailCsv } from './csv.js';

export { directMailCsv, postalAddress, ADDRESS_COLUMNS, type DirectMailFile, type PostalAddress } from './csv.js';

export const DirectMailConfig = Type.Object({
  uploadUrl: Type.String({
    pattern: '^(https://\\S+|http://(127\\.0\\.0\\.1|localhost)(:[0-9]+)?(/\\S*)?)$', maxLength: 2048,
    description: 'The mailing house\'s upload endpoint (POST, one CSV file per batch); https, or loopback http for tests.',
  }),
  uploadToken: Type.String({ minLength: 16, description: 'Bearer token of the upload endpoint.' }),
}, { additionalProperties: false });
export type DirectMailConfigT = Static<typeof DirectMailConfig>;

/** The same items always give the same key, so the house can ignore a re-uploaded file. */
export function fileIdempotencyKey(keys: readonly string[]): string {
  return sha256Hex(keys.join('\n'));
}

export const manifest: DestinationManifest<DirectMailConfigT> = {
  id: 'direct-mail',
  name: 'Direct mail',
  description: 'Print-ready CSV files of postal addresses and rendered letters, uploaded to your mailing house.',
  kinds: ['message'],
  configSchema: DirectMailConfig,
  secrets: ['uploadToken'],
  // Not a built-in purpose: the workspace must define it (the engine refuses unknown purposes).
  purpose: 'postal_marketing',
  advertising: false,
  // The address lives in the traits the engine passes with each message, not in identifiers.
  identifiers: ['user_id'],
  batchSize: 1000,
  ratePerSecond: 1,
  identify: (ids) => ({ user_id: [...(ids.user_id ?? [])] }),
  async send(batch: readonly DeliveryItem[], ctx) {
    const messages = batch.filter((i): i is MessageItem => i.kind === 'message');
    const file = directMailCsv(messages);
    const byKey = new Map<string, DeliveryOutcome>();
    for (const k of file.skipped) byKey.set(k, { kind: 'drop', reason: 'no_address' });
    if (file.keys.length > 0) {
      const idempotencyKey = fileIdempotencyKey(file.keys);
      const outcomes = await sendAll(file.keys.length, () => ctx.fetch(ctx.config.uploadUrl, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${ctx.config.uploadToken}`,
          'content-type': 'text/csv; charset=utf-8; header=present',
          'content-disposition': `attachment; filename="ensemble-${idempotencyKey.slice(0, 16)}.csv"`,
          'idempotency-key': idempotencyKey,
        },
        body: file.csv,
      }), ctx.now);
      file.keys.forEach((k, i) => byKey.set(k, outcomes[i]!));
    }
    ctx.log.info({ destinationId: ctx.destinationId, items: batch.length, rows: file.keys.length, noAddress: file.skipped.length }, 'direct-mail: file uploaded');
    return batch.map((item) => byKey.get(item.key) ?? { kind: 'drop', reason: item.kind === 'message' ? 'no_address' : 'unsupported_kind' });
  },
};
