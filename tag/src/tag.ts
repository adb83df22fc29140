/**
 * The tag's state and its Segment-compatible calls (`track`, `identify`, `page`, `group`,
 * `alias`, `reset`), consent first:
 * - consent state is `granted`, `unknown` or `denied`. A standard source starts granted; a
 *   strict one starts unknown unless this device stored a grant before.
 * - while unknown, calls are kept in memory only (nothing stored, nothing sent); a grant sends
 *   them, a refusal forgets them.
 * - a grant (or any change while granted) sends a `Consent Preference Updated` event, so the
 *   server's consent ledger records it even if the visitor does nothing else.
 * - a withdrawal sends that event once more (analytics: false, under the same ids, so the
 *   server records the withdrawal on the profile), drops everything unsent, clears the device
 *   storage and stops tracking. Only a standard source keeps the refusal (no identifier) on
 *   the device, so it is not asked again.
 * Every event carries the decision in force: `context.consent.categoryPreferences` with the time
 * it was made (`decidedAt`), or the TC string of a TCF CMP (`context.consent.tcString`, which
 * dates itself).
 *
 * @example
 *   const tag = new Tag(resolveOptions({}, 'wk', {}, 'https://cdp.example.com/tag.js'));
 *   tag.track('Signed Up', { plan: 'pro' });
 *   tag.consent({ analytics: false }); // withdrawal
 */
import { DeviceStorage } from './storage.js';
import { Transport, type Message } from './transport.js';
import { uuid } from './ids.js';
import { TAG_VERSION } from './version.js';
import type { ResolvedOptions } from './options.js';

type Props = Record<string, unknown>;
type Prefs = Record<string, boolean>;
type State = 'granted' | 'unknown' | 'denied';
interface CallOptions {
  context?: Props;
  timestamp?: string | Date;
}
type Callback = () => void;

/** Consent-less events kept in memory at most, for a strict source before the decision. */
const MAX_WAITING = 100;
const ANALYTICS = 'analytics';

export class Tag {
  readonly storage: DeviceStorage;
  private readonly transport: Transport;
  private state: State;
  private prefs: Prefs | null = null;
  private tcString: string | null = null;
  /** When the decision in force was made (ISO 8601), null before any. */
  private decidedAt: string | null = null;
  private anon: string;
  private uid: string | null;
  private waiting: Message[] = [];

  /**
   * @param cmp a TCF CMP is on the page: even a standard source waits for its answer (or for
   *   its word that GDPR does not apply) before storing or sending anything.
   */
  constructor(readonly o: ResolvedOptions, private readonly cmp = false) {
    this.storage = new DeviceStorage(false);
    try {
      const saved = JSON.parse(this.storage.get('consent') ?? 'null') as { p?: Prefs; tc?: string; d?: string } | null;
      if (saved && typeof saved.p === 'object') {
        this.prefs = saved.p;
        this.tcString = saved.tc ?? null;
        this.decidedAt = saved.d ?? null;
      }
    } catch { /* a damaged record counts as no decision */ }
    this.state = this.stateOf(this.prefs);
    if (this.state === 'granted') this.storage.allow();
    this.anon = this.storage.get('aid') || uuid();
    this.uid = this.storage.get('uid');
    this.transport = new Transport(o, this.storage);
    if (this.state === 'granted') {
      this.storage.set('aid', this.anon);
      this.transport.restore();
    }
  }

  /** No analytics decision known yet (the banner's cue). */
  get undecided(): boolean {
    return this.prefs?.[ANALYTICS] === undefined;
  }

  private stateOf(p: Prefs | null): State {
    const a = p?.[ANALYTICS];
    if (a === true) return 'granted';
    if (a === false) return 'denied';
    return this.o.strict || this.cmp ? 'unknown' : 'granted';
  }

  // ---- Segment's calls ------------------------------------------------------------------

  track(event: string, properties?: Props, options?: CallOptions, cb?: Callback): void {
    this.record({ type: 'track', event: String(event), properties: properties ?? {} }, options, cb);
  }

  /** `page()`, `page(name)`, `page(category, name)`, each optionally followed by properties. */
  page(...args: unknown[]): void {
    const strings: string[] = [];
    while (typeof args[0] === 'string' || args[0] === null) {
      const s = args.shift();
      if (typeof s === 'string') strings.push(s);
    }
    const [properties, options, cb] = this.rest(args);
    const name = strings.length > 1 ? strings[1] : strings[0];
    const category = strings.length > 1 ? strings[0] : undefined;
    const page = this.pageContext();
    this.record({
      type: 'page', ...(name ? { name } : {}), ...(category ? { category } : {}),
      properties: { ...page, ...(name ? { name } : {}), ...properties },
    }, options, cb);
  }

  /** `identify(userId, traits?)` or `identify(traits)` for the current visitor. */
  identify(...args: unknown[]): void {
    let userId: string | null = this.uid;
    if (typeof args[0] === 'string' || typeof args[0] === 'number') userId = String(args.shift());
    const [traits, options, cb] = this.rest(args);
    if (userId !== this.uid) this.setUser(userId);
    this.record({ type: 'identify', traits }, options, cb);
  }

  group(groupId: string, traits?: Props, options?: CallOptions, cb?: Callback): void {
    this.record({ type: 'group', groupId: String(groupId), traits: traits ?? {} }, options, cb);
  }

  /** Links `userId` to the visitor's previous id (by default the current user or anonymous id). */
  alias(userId: string, previousId?: string, options?: CallOptions, cb?: Callback): void {
    const previous = previousId ?? this.uid ?? this.anon;
    this.record({ type: 'alias', previousId: String(previous) }, options, cb, String(userId));
    this.setUser(String(userId));
  }

  /** Forgets the user: no user id, and a new anonymous id. */
  reset(): void {
    this.setUser(null);
    this.anon = uuid();
    this.storage.set('aid', this.anon);
  }

  anonymousId(): string {
    return this.anon;
  }

  userId(): string | null {
    return this.uid;
  }

  flush(): Promise<void> {
    return this.transport.flush();
  }

  // ---- consent --------------------------------------------------------------------------

  consentState(): { state: State; preferences: Prefs | null } {
    return { state: this.state, preferences: this.prefs && { ...this.prefs } };
  }

  /**
   * A decision from the site, the banner or a TCF CMP. Keys are Ensemble purposes (`analytics`,
   * `advertising`, ...) or the CMP's category names the workspace's consent mapping knows.
   */
  consent(given: Prefs, tcString?: string): void {
    const before = this.state;
    const record = JSON.stringify({ p: this.prefs, tc: this.tcString });
    this.prefs = tcString ? { ...given } : { ...this.prefs, ...given };
    this.tcString = tcString ?? null;
    const next = this.stateOf(this.prefs);
    const changed = JSON.stringify({ p: this.prefs, tc: this.tcString }) !== record;
    // When the person decided: the server lets only a decision newer than an erasure bring them
    // back. A site repeating the same decision on every page load is not deciding anew.
    if (changed) this.decidedAt = new Date().toISOString();
    if (next === 'granted') {
      this.state = 'granted';
      this.transport.open();
      this.storage.allow();
      this.storage.set('aid', this.anon);
      if (this.uid) this.storage.set('uid', this.uid);
      this.storage.set('consent', JSON.stringify({ p: this.prefs, d: this.decidedAt, ...(this.tcString ? { tc: this.tcString } : {}) }));
      const waiting = this.waiting;
      this.waiting = [];
      for (const m of waiting) this.deliver(m);
      if (changed) this.track('Consent Preference Updated', {});
    } else if (next === 'denied') {
      this.state = 'denied';
      this.waiting = [];
      // Only what was tracked needs a withdrawal recorded; a first refusal sends nothing.
      this.transport.close(before === 'granted' ? [this.stamp(this.message({ type: 'track', event: 'Consent Preference Updated', properties: {} }))] : []);
      this.storage.clear();
      if (!this.o.strict) this.storage.set('consent', JSON.stringify({ p: this.prefs, d: this.decidedAt }), true);
      this.anon = uuid();
      this.uid = null;
    }
  }

  /** The CMP says GDPR does not apply: a standard source tracks as without a CMP; a strict one still waits. */
  consentNotRequired(): void {
    if (this.o.strict || this.state !== 'unknown') return;
    this.state = 'granted';
    this.storage.allow();
    this.storage.set('aid', this.anon);
    if (this.uid) this.storage.set('uid', this.uid);
    this.transport.restore();
    const waiting = this.waiting;
    this.waiting = [];
    for (const m of waiting) this.deliver(m);
  }

  // ---- internals ------------------------------------------------------------------------

  private setUser(userId: string | null): void {
    this.uid = userId;
    this.storage.set('uid', userId);
  }

  private rest(args: unknown[]): [Props, CallOptions | undefined, Callback | undefined] {
    const cb = args.find((a): a is Callback => typeof a === 'function');
    const objects = args.filter((a) => typeof a === 'object' && a !== null) as Props[];
    return [objects[0] ?? {}, objects[1] as CallOptions | undefined, cb];
  }

  private pageContext(): Props {
    return {
      path: location.pathname, referrer: document.referrer, search: location.search,
      title: document.title, url: location.href,
    };
  }

  private message(fields: Props, options?: CallOptions, userId?: string): Message {
    const uid = userId ?? this.uid;
    const ts = options?.timestamp;
    return {
      ...fields,
      messageId: uuid(),
      anonymousId: this.anon,
      ...(uid ? { userId: uid } : {}),
      timestamp: ts ? new Date(ts).toISOString() : new Date().toISOString(),
      context: {
        library: { name: 'ensemble-tag', version: TAG_VERSION },
        page: this.pageContext(),
        userAgent: navigator.userAgent,
        locale: navigator.language,
        ...options?.context,
      },
    };
  }

  private record(fields: Props, options: CallOptions | undefined, cb: Callback | undefined, userId?: string): void {
    if (this.state !== 'denied') this.deliver(this.message(fields, options, userId));
    if (cb) setTimeout(cb, 0);
  }

  /** The decision in force, as the server reads it (privacy/consent-mapping.ts). */
  private stamp(m: Message): Message {
    const context = m.context as Props;
    if (this.tcString) context.consent = { tcString: this.tcString };
    else if (this.prefs) context.consent = { categoryPreferences: { ...this.prefs }, ...(this.decidedAt ? { decidedAt: this.decidedAt } : {}) };
    return m;
  }

  private deliver(m: Message): void {
    if (this.state === 'granted') this.transport.enqueue(this.stamp(m));
    else if (this.state === 'unknown' && this.waiting.length < MAX_WAITING) this.waiting.push(m);
  }
}
