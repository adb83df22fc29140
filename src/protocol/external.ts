/**
 * External data sources as the admin API speaks them: an HTTP JSON endpoint pulled on a schedule
 * and a declarative mapping from its answer into keyed values (a city → its temperature). The
 * schema checks shapes; src/external/validate.ts checks meaning (pointers, placeholders) and
 * reports every problem with a JSON pointer into the definition and a code.
 *
 * @example
 *   POST /api/workspaces/{ws}/external-sources
 *   { "id": "weather", "name": "Weather per city", "url": "https://api.example/weather?q={key}",
 *     "keys": ["Paris", "Lyon"], "everySeconds": 900, "headers": { "x-api-key": "…" },
 *     "mapping": { "fields": { "temperature": "/main/temp", "condition": "/weather/0/main" } } }
 */
import { Type, type Static } from '@sinclair/typebox';

/** A source id: chosen by the user, stable, used in segment conditions (`external.weather.temperature`). */
export const EXTERNAL_SOURCE_ID = '^[a-z][a-z0-9_]{0,63}$';
/** A field name of the mapping. */
export const EXTERNAL_FIELD_NAME = '^[A-Za-z_][A-Za-z0-9_]{0,63}$';
/** Shown instead of a header's value: every header value is treated as a secret. */
export const HEADER_MASK = '••••';
export const MIN_EVERY_SECONDS = 60;
export const MAX_KEYS = 1000;
export const MAX_FIELDS = 50;

export const ExternalMapping = Type.Object({
  /** JSON pointer to the array of items; absent: the whole body is one item (URLs with `{key}` only). `""` is the body itself. */
  items: Type.Optional(Type.String({ maxLength: 500 })),
  /** JSON pointer into an item to its key; absent: the `{key}` the URL was pulled for (URLs with `{key}` only). */
  key: Type.Optional(Type.String({ maxLength: 500 })),
  /** Field name → JSON pointer (RFC 6901) into an item. */
  fields: Type.Record(Type.String(), Type.String({ maxLength: 500 })),
}, { additionalProperties: false });
export type ExternalMappingT = Static<typeof ExternalMapping>;

const Fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  /** http or https; may hold `{key}` (in the path or query), pulled once per entry of `keys`. */
  url: Type.String({ minLength: 1, maxLength: 2000 }),
  keys: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: MAX_KEYS })),
  everySeconds: Type.Integer({ minimum: MIN_EVERY_SECONDS, maximum: 30 * 86_400 }),
  /** Request headers (an API key...). Sealed at rest; never shown (GET answers `••••`). */
  headers: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 4000 }))),
  mapping: ExternalMapping,
  enabled: Type.Optional(Type.Boolean()),
};

export const ExternalSourceInput = Type.Object({ id: Type.String({ maxLength: 64 }), ...Fields }, { additionalProperties: false });
export type ExternalSourceInputT = Static<typeof ExternalSourceInput>;

/** Every field optional: what is given replaces; header values sent back as `••••` keep the stored ones. */
export const ExternalSourceUpdate = Type.Partial(Type.Object(Fields, { additionalProperties: false }), { additionalProperties: false });
export type ExternalSourceUpdateT = Static<typeof ExternalSourceUpdate>;

export const PULL_OUTCOMES = ['ok', 'partial', 'failed'] as const;
export type PullOutcome = (typeof PULL_OUTCOMES)[number];

export const ExternalStatusView = Type.Object({
  lastPullAt: Type.Union([Type.String(), Type.Null()]),
  lastSuccessAt: Type.Union([Type.String(), Type.Null()]),
  lastOutcome: Type.Union([Type.Union(PULL_OUTCOMES.map((o) => Type.Literal(o))), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  /** Keys held now. */
  itemCount: Type.Integer(),
  nextPullAt: Type.Union([Type.String(), Type.Null()]),
});

export const ExternalSourceView = Type.Object({
  id: Type.String(), name: Type.String(), url: Type.String(), keys: Type.Optional(Type.Array(Type.String())),
  everySeconds: Type.Integer(), headers: Type.Record(Type.String(), Type.String()), mapping: ExternalMapping, enabled: Type.Boolean(),
  createdAt: Type.String(), updatedAt: Type.String(), status: ExternalStatusView,
});

export const PullResultView = Type.Object({
  outcome: Type.Union(PULL_OUTCOMES.map((o) => Type.Literal(o))),
  /** Keys held after the pull (failed keys keep their previous values). */
  itemCount: Type.Integer(),
  /** Keys whose values changed. */
  changed: Type.Integer(),
  /** Items without a usable key, and repeats of a key already seen in the same pull (the first is kept). */
  skipped: Type.Integer(),
  errors: Type.Array(Type.Object({ key: Type.Optional(Type.String()), error: Type.String() })),
  durationMs: Type.Integer(),
});

export const ExternalValuesView = Type.Object({
  values: Type.Array(Type.Object({ key: Type.String(), fields: Type.Record(Type.String(), Type.Unknown()), fetchedAt: Type.String() })),
});
