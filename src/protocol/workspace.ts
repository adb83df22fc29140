/** Tenants and the places their data comes from. */
import { Type, type Static } from '@sinclair/typebox';
import { CONSENT_MODES, DATA_CATEGORIES, DEFAULT_PURPOSES, PURPOSE_ID, type ConsentMode, type DataCategory } from './privacy.js';

export interface Workspace {
  id: string;
  name: string;
  createdAt: number;
}

export const SOURCE_KINDS = ['website', 'mobile', 'server', 'crm', 'pos', 'email', 'file', 'other'] as const;

export interface Source {
  id: string;
  workspaceId: string;
  name: string;
  kind: (typeof SOURCE_KINDS)[number];
  writeKey: string;
  /** After a rotation the previous key keeps working until `previousKeyExpiresAt` (ms). */
  previousWriteKey: string | null;
  previousKeyExpiresAt: number | null;
  createdAt: number;
  /** The purposes this source collects for: its data may feed only segments and destinations of these. */
  purposes: string[];
  dataCategories: DataCategory[];
  consentMode: ConsentMode;
}

/** What a source declares when its creator says nothing: every built-in purpose, categories by kind. */
export function defaultDeclaration(kind: Source['kind']): Pick<Source, 'purposes' | 'dataCategories' | 'consentMode'> {
  const byKind: Record<Source['kind'], DataCategory[]> = {
    website: ['identifiers', 'behaviour', 'device', 'location'],
    mobile: ['identifiers', 'behaviour', 'device', 'location'],
    server: ['identifiers', 'behaviour', 'transactions'],
    crm: ['identifiers', 'contact', 'transactions', 'preferences'],
    pos: ['identifiers', 'transactions'],
    email: ['identifiers', 'contact', 'behaviour'],
    file: ['identifiers', 'contact', 'transactions'],
    other: ['identifiers', 'behaviour'],
  };
  return { purposes: DEFAULT_PURPOSES.map((p) => p.id), dataCategories: byKind[kind], consentMode: 'standard' };
}

const Declaration = {
  purposes: Type.Optional(Type.Array(Type.String({ pattern: PURPOSE_ID }), { minItems: 1, maxItems: 64, uniqueItems: true })),
  dataCategories: Type.Optional(Type.Array(Type.Union(DATA_CATEGORIES.map((c) => Type.Literal(c))), { maxItems: 16, uniqueItems: true })),
  consentMode: Type.Optional(Type.Union(CONSENT_MODES.map((m) => Type.Literal(m)))),
};

export const WorkspaceInput = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
export const WorkspaceView = Type.Object({ id: Type.String(), name: Type.String(), createdAt: Type.String({ format: 'date-time' }) });
export const SourceInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    kind: Type.Union(SOURCE_KINDS.map((k) => Type.Literal(k))),
    ...Declaration,
  },
  { additionalProperties: false },
);
/** Changes a source's declaration; each field left out stays as it is. */
export const SourcePatch = Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), ...Declaration }, { additionalProperties: false });
export type SourcePatchT = Static<typeof SourcePatch>;
export const SourceView = Type.Object({
  id: Type.String(),
  workspaceId: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  writeKey: Type.String(),
  previousKeyExpiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  purposes: Type.Array(Type.String()),
  dataCategories: Type.Array(Type.String()),
  consentMode: Type.String(),
});
export const RotateKeyInput = Type.Object(
  { graceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 * 24 * 3600 })) },
  { additionalProperties: false },
);
export type WorkspaceInputT = Static<typeof WorkspaceInput>;
export type SourceInputT = Static<typeof SourceInput>;
