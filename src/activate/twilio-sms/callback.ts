/**
 * The return path of Twilio SMS: status callbacks (`StatusCallback` URL) arrive as form posts
 * signed with `X-Twilio-Signature`. These pure helpers let the lead's callback route check the
 * signature and turn the form into a Segment-style track event. Neither touches the network.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Track event names by Twilio `MessageStatus` (outbound statuses of the Messages resource). */
const EVENT_BY_STATUS: Readonly<Record<string, string>> = {
  accepted: 'SMS Accepted',
  scheduled: 'SMS Scheduled',
  canceled: 'SMS Canceled',
  queued: 'SMS Queued',
  sending: 'SMS Sending',
  sent: 'SMS Sent',
  delivered: 'SMS Delivered',
  undelivered: 'SMS Undelivered',
  failed: 'SMS Failed',
  read: 'SMS Read',
  partially_delivered: 'SMS Partially Delivered',
};

export interface TwilioStatusEvent {
  event: string;
  properties: { messageSid: string; status: string; errorCode: string | null };
}

/**
 * The track event of one status callback, or null when the form is not an outbound status
 * (inbound `received`, unknown status, no MessageSid). The phone numbers (`To`, `From`) are
 * deliberately not copied: the event is attached to the profile, which already knows them.
 */
export function twilioStatusEvent(form: Record<string, string>): TwilioStatusEvent | null {
  const messageSid = form.MessageSid ?? form.SmsSid ?? '';
  const status = (form.MessageStatus ?? form.SmsStatus ?? '').toLowerCase();
  const event = EVENT_BY_STATUS[status];
  if (messageSid === '' || event === undefined) return null;
  const code = (form.ErrorCode ?? '').trim();
  return { event, properties: { messageSid, status, errorCode: code === '' ? null : code } };
}

/**
 * Twilio's signature of a form-encoded webhook: base64(HMAC-SHA1(authToken, url + every POST
 * parameter name immediately followed by its value, names sorted)). `url` is the full URL
 * Twilio called, query string included, exactly as configured.
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params).sort().reduce((acc, k) => acc + k + params[k], url);
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** Checks `X-Twilio-Signature` in constant time; false for a missing or malformed header. */
export function verifyTwilioSignature(authToken: string, url: string, params: Record<string, string>, signatureHeader: string | undefined | null): boolean {
  if (typeof signatureHeader !== 'string' || signatureHeader.length === 0) return false;
  const expected = Buffer.from(twilioSignature(authToken, url, params), 'utf8');
  const given = Buffer.from(signatureHeader.trim(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
