/**
 * A real SMTP relay for tests, on 127.0.0.1: accepts AUTH PLAIN/LOGIN with the configured
 * credentials (or none, when `authOptional`), parses every received message with mailparser and
 * keeps it, and can be told to refuse recipients with a given reply code (550, 451, ...) so
 * connectors' outcome mapping runs against real SMTP answers. No TLS: STARTTLS is disabled.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type AddressObject } from 'mailparser';

export interface ReceivedMail {
  /** Envelope (SMTP MAIL FROM / RCPT TO). */
  envelope: { from: string; to: string[] };
  /** The authenticated user, if any. */
  user: string | undefined;
  /** Header names lower-cased; each value as it appeared (unfolded). */
  headers: Record<string, string>;
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  messageId: string;
  raw: string;
}

export interface SmtpServerOptions {
  user?: string;
  password?: string;
  /** Accept sessions without AUTH (default false: AUTH is required). */
  authOptional?: boolean;
}

export interface TestSmtpServer {
  host: string;
  port: number;
  messages: ReceivedMail[];
  /** Refuses this recipient (or every recipient, with '*') with `code` until `accept` is called. */
  reject(address: string, code: number, message?: string): void;
  accept(address?: string): void;
  /** How many AUTH attempts were refused. */
  authFailures: number;
  close(): Promise<void>;
}

function addressText(a: AddressObject | AddressObject[] | undefined): string {
  if (a === undefined) return '';
  return (Array.isArray(a) ? a : [a]).map((x) => x.text).join(', ');
}

/** Starts the relay on an ephemeral port. */
export async function startSmtpServer(opts: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const rejections = new Map<string, { code: number; message: string }>();
  const messages: ReceivedMail[] = [];
  const state = { authFailures: 0 };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: opts.authOptional ?? false,
    allowInsecureAuth: true,
    disableReverseLookup: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === opts.user && auth.password === opts.password) return callback(null, { user: auth.username });
      state.authFailures++;
      const err = Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 });
      return callback(err);
    },
    onRcptTo(address, _session, callback) {
      const r = rejections.get(address.address.toLowerCase()) ?? rejections.get('*');
      // Like real relays, the reply names the address: outcomes must not repeat it.
      if (r) return callback(Object.assign(new Error(`<${address.address}>: ${r.message}`), { responseCode: r.code }));
      return callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then((mail) => {
          const headers: Record<string, string> = {};
          for (const line of mail.headerLines) {
            const colon = line.line.indexOf(':');
            headers[line.key.toLowerCase()] = line.line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
          }
          messages.push({
            envelope: {
              from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
              to: session.envelope.rcptTo.map((r) => r.address),
            },
            user: typeof session.user === 'string' ? session.user : undefined,
            headers,
            from: addressText(mail.from),
            to: addressText(mail.to),
            subject: mail.subject ?? '',
            html: typeof mail.html === 'string' ? mail.html : '',
            text: mail.text ?? '',
            messageId: mail.messageId ?? '',
            raw: raw.toString('utf8'),
          });
          callback();
        }, (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))));
      });
    },
  });
  server.on('error', () => { /* a client dropping its connection is not a test failure */ });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    messages,
    reject(address, code, message = 'Recipient address rejected') { rejections.set(address.toLowerCase(), { code, message }); },
    accept(address) { if (address === undefined) rejections.clear(); else rejections.delete(address.toLowerCase()); },
    get authFailures() { return state.authFailures; },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
