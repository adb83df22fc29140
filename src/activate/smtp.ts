/**
 * SMTP submission for mail connectors: the engine's `DestinationContext.smtp`, built on
 * nodemailer's pooled SMTP transport, plus the one mapping of SMTP failures to delivery
 * outcomes (the SMTP counterpart of http-outcome.ts).
 *
 * Mapping (RFC 5321 §4.2.1: 4yz transient, 5yz permanent):
 * - 4yz replies (421, 450, 451, 452, ...) and connection, socket, DNS, TLS and timeout errors → retry;
 * - 5yz replies to the recipient or the message (550, 551, 552, 553, 554, 501, ...) → drop `smtp_<code>`;
 * - authentication refused (EAUTH, 530/534/535) or the sender refused at MAIL FROM → dead: it is
 *   the relay's configuration, every message would fail the same way until an operator fixes it;
 * - 503 (bad sequence of commands) is a session state problem, not a refusal → retry.
 * Reasons are fixed strings plus the reply code: never the server's text, which echoes addresses.
 *
 * @example
 *   const smtp = createSmtpSender();
 *   try { await smtp.send(options, message); } catch (err) { return smtpOutcome(err); }
 *   smtp.close(); // at shutdown
 */
import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { DeliveryOutcome, SmtpMessage, SmtpOptions } from '../protocol/destination.js';

/** Connection, greeting and socket inactivity timeout: a relay that hangs is retried later. */
export const SMTP_TIMEOUT_MS = 10_000;

export interface SmtpSender {
  send(options: SmtpOptions, message: SmtpMessage): Promise<{ messageId: string; response: string }>;
  /** Closes every pooled connection. */
  close(): void;
}

type Transporter = ReturnType<typeof nodemailer.createTransport>;

/** The cache key of a set of options; hashed so the password is not kept as a readable key. */
function keyOf(o: SmtpOptions): string {
  const parts = [o.host, o.port, o.secure, o.user ?? '', o.password ?? '', o.allowSelfSigned === true];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function transporterFor(o: SmtpOptions): Transporter {
  return nodemailer.createTransport({
    pool: true,
    maxConnections: 5,
    maxMessages: 100,
    host: o.host,
    port: o.port,
    secure: o.secure,
    ...(o.user !== undefined && o.user !== '' ? { auth: { user: o.user, pass: o.password ?? '' } } : {}),
    ...(o.allowSelfSigned === true ? { tls: { rejectUnauthorized: false } } : {}),
    // A password never crosses the network in clear: without implicit TLS, STARTTLS is required
    // (a relay that does not offer it fails); only a relay on this machine may go without.
    requireTLS: !o.secure && o.user !== undefined && o.user !== '' && !isLoopback(o.host),
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
    // Nodemailer's own logs would print addresses and, with debug, the AUTH exchange.
    logger: false,
    debug: false,
    // Content comes from templates: it must never make the sender read a file or fetch a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
}

/** One pooled transporter per distinct relay configuration, created on first use. */
export function createSmtpSender(): SmtpSender {
  const pools = new Map<string, Transporter>();
  return {
    async send(options, message) {
      const key = keyOf(options);
      let t = pools.get(key);
      if (!t) { t = transporterFor(options); pools.set(key, t); }
      const info = await t.sendMail({
        from: message.from,
        to: message.to,
        subject: message.subject,
        ...(message.text !== undefined ? { text: message.text } : {}),
        ...(message.html !== undefined ? { html: message.html } : {}),
        ...(message.headers !== undefined ? { headers: message.headers } : {}),
        ...(message.messageId !== undefined ? { messageId: message.messageId } : {}),
      });
      return { messageId: String(info.messageId), response: String(info.response) };
    },
    close() {
      for (const t of pools.values()) t.close();
      pools.clear();
    },
  };
}

/** Whether a failure concerns this one message, or the relay itself (then every message fails alike). */
export type SmtpFailureScope = 'message' | 'relay';

interface SmtpErrorFacts { code?: string; responseCode?: number; command?: string }

function factsOf(err: unknown): SmtpErrorFacts {
  if (typeof err !== 'object' || err === null) return {};
  const e = err as Record<string, unknown>;
  return {
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.responseCode === 'number' ? { responseCode: e.responseCode } : {}),
    ...(typeof e.command === 'string' ? { command: e.command } : {}),
  };
}

const AUTH_CODES = new Set([530, 534, 535, 538]);
const CONNECTION_CODES: Record<string, string> = {
  ETIMEDOUT: 'smtp_timeout', ECONNECTION: 'smtp_connection', ESOCKET: 'smtp_connection',
  EDNS: 'smtp_dns', ETLS: 'smtp_tls', EPROXY: 'smtp_connection', EPROTOCOL: 'smtp_protocol',
  ECONNREFUSED: 'smtp_connection', ECONNRESET: 'smtp_connection',
};

/** The outcome of a failed submission, and whether it is the relay's (to stop sending the batch). */
export function smtpFailure(err: unknown): { outcome: DeliveryOutcome; scope: SmtpFailureScope } {
  const { code, responseCode, command } = factsOf(err);
  if (code === 'EAUTH' || code === 'ENOAUTH' || (responseCode !== undefined && AUTH_CODES.has(responseCode))) {
    return { outcome: { kind: 'dead', error: `smtp_auth${responseCode ? `_${responseCode}` : ''}` }, scope: 'relay' };
  }
  if (responseCode !== undefined && responseCode >= 400 && responseCode < 600) {
    const reason = `smtp_${responseCode}`;
    // 421: the service is closing the channel, for everyone.
    if (responseCode === 421) return { outcome: { kind: 'retry', reason }, scope: 'relay' };
    if (responseCode < 500 || responseCode === 503) return { outcome: { kind: 'retry', reason }, scope: 'message' };
    // The sender refused: a configuration problem, not this recipient's.
    if (command === 'MAIL FROM') return { outcome: { kind: 'dead', error: `${reason}_sender` }, scope: 'relay' };
    return { outcome: { kind: 'drop', reason }, scope: 'message' };
  }
  // Refused client-side before any command (e.g. an address nodemailer cannot parse).
  if (code === 'EENVELOPE') return { outcome: { kind: 'drop', reason: 'invalid_address' }, scope: 'message' };
  if (code !== undefined && code in CONNECTION_CODES) return { outcome: { kind: 'retry', reason: CONNECTION_CODES[code]! }, scope: 'relay' };
  return { outcome: { kind: 'retry', reason: 'smtp_error' }, scope: 'message' };
}

/** The delivery outcome of a failed SMTP submission (see the mapping at the top of this file). */
export function smtpOutcome(err: unknown): DeliveryOutcome {
  return smtpFailure(err).outcome;
}
