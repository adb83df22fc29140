/** The few members of the legacy `analytics-node` v6 SDK (no bundled types) the tests use. */
declare module 'analytics-node' {
  interface Message { [key: string]: unknown }
  export default class Analytics {
    constructor(writeKey: string, options?: { host?: string; flushAt?: number; flushInterval?: number });
    identify(message: Message, callback?: (err?: Error) => void): this;
    track(message: Message, callback?: (err?: Error) => void): this;
    page(message: Message, callback?: (err?: Error) => void): this;
    flush(callback?: (err?: Error) => void): void;
  }
}
