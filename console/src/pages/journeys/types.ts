/**
 * The journey language as the API speaks it (src/protocol/journey.ts is the source of truth;
 * these types mirror it so the editor can build definitions the server accepts).
 */
export interface PropertyFilter { property: string; op: string; value?: unknown }
export interface EventMatch { event: string; filters?: PropertyFilter[] }

export type JourneyEntry =
  | { kind: 'segment'; segmentId: string }
  | { kind: 'event'; event: string; filters?: PropertyFilter[] }
  | { kind: 'schedule'; segmentId: string; at: string; days?: number[]; timeZone?: string };

export interface SplitBranch { percent: number; next?: string; control?: boolean; name?: string }

export type JourneyStep =
  | { kind: 'wait'; for?: string; until?: string; next: string }
  | { kind: 'wait_for'; event?: EventMatch; events?: EventMatch[]; segment?: { segmentId: string; on: 'entered' | 'exited' }; timeout: string; next: string; onTimeout: string }
  | { kind: 'branch'; condition: unknown; then: string; else: string }
  | { kind: 'split'; branches: SplitBranch[] }
  | { kind: 'send'; destinationId: string; template: Record<string, string>; next: string }
  | { kind: 'audience'; destinationId: string; segmentId: string; action: 'add' | 'remove'; next: string }
  | { kind: 'update_trait'; traits: Record<string, string | number | boolean | null>; next: string }
  | { kind: 'webhook'; destinationId: string; next: string }
  | { kind: 'exit' };

export type StepKind = JourneyStep['kind'];
export const STEP_KINDS: readonly StepKind[] = ['wait', 'wait_for', 'branch', 'split', 'send', 'audience', 'update_trait', 'webhook', 'exit'];

export type Reentry = { policy: 'once' } | { policy: 'always' } | { policy: 'cooldown'; after: string };

export interface JourneyDefinition {
  name: string;
  entry: JourneyEntry;
  /** A goal ends the journey (a conversion); `then` names instantaneous steps run on the way out. */
  goal?: EventMatch & { then?: string };
  reentry?: Reentry;
  priority?: number;
  start: string;
  steps: Record<string, JourneyStep>;
}

export interface JourneyView {
  id: string;
  workspaceId: string;
  status: 'active' | 'paused' | 'archived' | string;
  version: number;
  definition: JourneyDefinition;
  createdAt: string;
  updatedAt: string;
}

/** One problem the server found, with a JSON pointer into the definition. */
export interface Problem { path: string; code: string; message: string }

export interface JourneyStats {
  entered: number;
  inside: number;
  outcomes: Record<string, number>;
  waiting: Record<string, number>;
  steps: Record<string, Record<string, number>>;
  branches: Array<{ branch: string; entered: number; goals: number; conversion: number; upliftVsControl: number | null }>;
}

export interface SimulateResult { path: Array<{ step: string; kind: string; note?: string }>; outcome: string }

export interface PressureCap { channel: 'email' | 'sms' | 'push' | 'mail' | 'all'; max: number; within: string }
export interface PressurePolicy { caps: PressureCap[]; quietHours?: { from: string; to: string }; defaultTimeZone: string; displace?: boolean }
