/** Tenants and the places their data comes from. */
import { Type, type Static } from '@sinclair/typebox';

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
}

export const WorkspaceInput = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
export const WorkspaceView = Type.Object({ id: Type.String(), name: Type.String(), createdAt: Type.String({ format: 'date-time' }) });
export const SourceInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    kind: Type.Union(SOURCE_KINDS.map((k) => Type.Literal(k))),
  },
  { additionalProperties: false },
);
export const SourceView = Type.Object({
  id: Type.String(),
  workspaceId: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  writeKey: Type.String(),
  previousKeyExpiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});
export const RotateKeyInput = Type.Object(
  { graceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 * 24 * 3600 })) },
  { additionalProperties: false },
);
export type WorkspaceInputT = Static<typeof WorkspaceInput>;
export type SourceInputT = Static<typeof SourceInput>;
