/**
 * The privacy API as the DPO pages use it: one typed function per call, all through the shared
 * client (cookie session, CSRF header, ApiError on failure). The server decides who may call
 * these (403 for anyone but a DPO or an admin); the pages only mirror that.
 *
 * @example
 *   const { requests } = await privacyApi(ws).requests();
 */
import { api } from '../../api/client';

export type RightsType = 'access' | 'portability' | 'rectification' | 'erasure' | 'restriction' | 'objection';
export const RIGHTS_TYPES: readonly RightsType[] = ['access', 'portability', 'rectification', 'erasure', 'restriction', 'objection'];

export interface RightsRequest {
  id: string;
  type: RightsType;
  identifierType: string;
  status: 'received' | 'completed' | 'rejected';
  receivedAt: string;
  dueAt: string;
  completedAt: string | null;
  profileId: string | null;
  result: Record<string, unknown>;
  trail: Array<{ at: string; status: string; note: string }>;
  bundle?: string;
}

export interface RightsRequestInput {
  type: RightsType;
  identifier: { type: string; value: string };
  purposes?: string[];
  traits?: Record<string, unknown>;
  lift?: boolean;
  note?: string;
}

export interface AccessBundle {
  generatedAt: string;
  requestId: string;
  profile?: { id: string; mergedFrom: string[]; firstSeen: string; lastSeen: string; eventCount: number };
  identifiers: Array<{ type: string; value: string | null; firstSeen: string }>;
  traits: Array<{ name: string; value: unknown; source: string; sourceName?: string | null; at: string }>;
  segments?: Array<{ id: string; name: string; purposes: string[] }>;
  consents: { current: Record<string, { status: string; at: string; source: string }>; history: unknown[] };
  events: Array<{ messageId?: string; type: string; event?: string | null; name?: string | null; timestamp: string }>;
}

export type LegalBasis = 'consent' | 'legitimate_interest' | 'contract' | 'legal_obligation';
export const LEGAL_BASES: readonly LegalBasis[] = ['consent', 'legitimate_interest', 'contract', 'legal_obligation'];

export interface Purpose { id: string; name: string; legalBasis: LegalBasis; description: string; builtIn: boolean }
export interface ConsentMapping { categories: Record<string, string[]>; tcf: Record<string, number[]> }
export interface ConsentRates { series: Array<{ purpose: string; points: Array<{ t: string; granted: number; denied: number; withdrawn: number; rate: number | null }> }> }

export interface RetentionPolicy { eventsDays: number; rawIpDays: number; inactiveProfileDays: number; consentProofDays: number; anonymousCountsDays: number }
export const RETENTION_FIELDS: ReadonlyArray<keyof RetentionPolicy> = ['eventsDays', 'rawIpDays', 'inactiveProfileDays', 'consentProofDays', 'anonymousCountsDays'];
export interface RetentionRun { at: string; events: number; rawIps: number; profiles: number; consentProofs: number; anonymousCounts: number }

export interface AuditEntry { seq: number; at: number; time: string | null; actor: string; action: string; resource: string; detail: unknown; hash: string }
export interface AuditPage { entries: AuditEntry[]; nextAfterSeq: number | null }
export interface AuditVerification {
  ok: boolean;
  entries: number;
  head: { seq: number; hash: string } | null;
  problems: Array<{ seq: number; kind: 'edited' | 'deleted' | 'reordered' | 'truncated'; message: string }>;
  problemCount: number;
}

export const DATA_CATEGORIES = ['identifiers', 'contact', 'behaviour', 'device', 'location', 'transactions', 'preferences'] as const;
export interface Breach {
  id: string;
  status: 'open' | 'notified' | 'closed';
  detectedAt: string;
  awareAt: string;
  notifyBy: string;
  hoursLeft: number | null;
  overdue: boolean;
  notifiedAt: string | null;
  notifiedLate: boolean;
  closedAt: string | null;
  nature: string;
  categories: string[];
  approxPeople: number | null;
  approxRecords: number | null;
  measures: string;
  highRisk: boolean | null;
  notification: string;
}
export interface BreachInput { nature: string; awareAt?: string; categories: string[]; approxPeople?: number; measures: string; highRisk?: boolean; securityEventIds?: string[] }
export interface SecurityEvent { id: string; kind: string; detectedAt: string; detail: Record<string, unknown> }
export interface BreachPatch { status?: 'notified' | 'closed'; notifiedAt?: string; delayReason?: string; note?: string }

export const SENSITIVE_CATEGORIES = [
  'health', 'religion', 'political_opinion', 'sexual_orientation', 'ethnic_origin', 'biometric', 'genetic', 'union_membership', 'criminal_record',
] as const;
export interface SensitiveData { traits: Record<string, string>; properties: Record<string, string> }
export interface Segment { id: string; name: string; description?: string; sensitive: string[]; approvedAt: string | null; size: number; purposes: string[] }

export interface RegisterActivity {
  purposeId: string; name: string; legalBasis: LegalBasis; description: string; inUse: boolean;
  sources: Array<{ id: string; name: string }>; dataCategories: string[]; dataSubjects: string[];
  recipients: Array<{ id: string; name: string; country: string }>; transfers: Array<{ recipientName: string; country: string; safeguard: string | null }>;
}
export const CONTROLLER_FIELDS = ['controllerName', 'controllerAddress', 'controllerContact', 'dpoName', 'dpoContact', 'representative'] as const;
export type ControllerField = (typeof CONTROLLER_FIELDS)[number];
export type Controller = Record<ControllerField, string | null> & { configured: boolean; missing: string[] };
export interface Register { version: string; generatedAt: string; workspace: { id: string; name: string }; activities: RegisterActivity[]; gaps: string[] }

/** All the calls for one workspace. */
export function privacyApi(ws: string) {
  const base = `/api/workspaces/${encodeURIComponent(ws)}`;
  const p = `${base}/privacy`;
  return {
    purposes: () => api.get<{ purposes: Purpose[] }>(`${p}/purposes`),
    putPurpose: (id: string, body: { name: string; legalBasis: LegalBasis; description: string }) => api.put<Purpose>(`${p}/purposes/${encodeURIComponent(id)}`, body),
    mapping: () => api.get<ConsentMapping>(`${p}/consent-mapping`),
    putMapping: (m: ConsentMapping) => api.put<ConsentMapping>(`${p}/consent-mapping`, m),
    consentRates: (from: string, to: string) => api.get<ConsentRates>(`${base}/analytics/consent-rates?interval=day&from=${from}&to=${to}`),
    requests: (limit = 100) => api.get<{ requests: RightsRequest[] }>(`${p}/requests?limit=${limit}`),
    fileRequest: (body: RightsRequestInput) => api.post<RightsRequest>(`${p}/requests`, body),
    bundle: (id: string) => api.get<AccessBundle>(`${p}/requests/${encodeURIComponent(id)}/bundle?format=json`),
    bundleUrl: (id: string, format: 'json' | 'html') => `${p}/requests/${encodeURIComponent(id)}/bundle?format=${format}`,
    register: () => api.get<Register>(`${p}/register?format=json`),
    registerUrl: (format: 'json' | 'markdown' | 'html') => `${p}/register?format=${format}`,
    controller: () => api.get<Controller>(`${p}/controller`),
    putController: (c: Partial<Record<ControllerField, string>>) => api.put<Controller>(`${p}/controller`, c),
    retention: () => api.get<RetentionPolicy>(`${p}/retention`),
    putRetention: (r: RetentionPolicy) => api.put<RetentionPolicy>(`${p}/retention`, r),
    runRetention: () => api.post<RetentionRun>(`${p}/retention/run`, {}),
    audit: (afterSeq: number, limit: number) => api.get<AuditPage>(`${base}/audit?afterSeq=${afterSeq}&limit=${limit}`),
    verifyAudit: () => api.get<AuditVerification>(`${base}/audit/verify`),
    breaches: () => api.get<{ breaches: Breach[] }>(`${p}/breaches`),
    securityEvents: () => api.get<{ events: SecurityEvent[] }>(`${p}/security-events?limit=50`),
    createBreach: (b: BreachInput) => api.post<Breach>(`${p}/breaches`, b),
    patchBreach: (id: string, patch: BreachPatch) => api.patch<Breach>(`${p}/breaches/${encodeURIComponent(id)}`, patch),
    notificationUrl: (id: string) => `${p}/breaches/${encodeURIComponent(id)}/notification?format=markdown`,
    sensitive: () => api.get<SensitiveData>(`${p}/sensitive-data`),
    putSensitive: (s: SensitiveData) => api.put<SensitiveData>(`${p}/sensitive-data`, s),
    segments: () => api.get<{ segments: Segment[] }>(`${base}/segments`),
    approveSegment: (id: string, note: string) => api.post<Segment>(`${base}/segments/${encodeURIComponent(id)}/approve`, { note }),
  };
}
export type PrivacyApi = ReturnType<typeof privacyApi>;
