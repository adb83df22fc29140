/**
 * Prometheus metrics. One registry per server instance (tests run several in one process).
 * Names are part of the operations contract (docs/operations.md); do not rename them lightly.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ensemble_process_' });
  return {
    registry,
    received: new Counter({ name: 'ensemble_events_received_total', help: 'Events received by the collector (before validation).', registers: [registry] }),
    accepted: new Counter({ name: 'ensemble_events_accepted_total', help: 'Events durably committed to the log.', registers: [registry] }),
    rejected: new Counter({ name: 'ensemble_events_rejected_total', help: 'Events refused, by error code.', labelNames: ['code'] as const, registers: [registry] }),
    duplicates: new Counter({ name: 'ensemble_events_duplicate_total', help: 'Events dropped because their messageId was already accepted.', registers: [registry] }),
    processed: new Counter({ name: 'ensemble_events_processed_total', help: 'Events the processor has written to the event store.', registers: [registry] }),
    deadLettered: new Counter({ name: 'ensemble_events_dead_lettered_total', help: 'Log records the processor set aside after they failed alone.', registers: [registry] }),
    masked: new Counter({
      name: 'ensemble_masked_values_total', help: 'Values masked at collection because they matched a forbidden pattern (card: payment card numbers), by pattern name.',
      labelNames: ['pattern'] as const, registers: [registry],
    }),
    suppressed: new Counter({ name: 'ensemble_events_suppressed_total', help: 'Events dropped because they carried an identifier of an erased person (and no new consent).', registers: [registry] }),
    processorDeferred: new Counter({ name: 'ensemble_processor_deferred_seconds_total', help: 'Time processing waited for collection during bursts (processor/burst-policy.ts).', registers: [registry] }),
    logLag: new Gauge({ name: 'ensemble_log_lag_events', help: 'Events committed to the log but not yet processed.', registers: [registry] }),
    pending: new Gauge({ name: 'ensemble_log_pending_events', help: 'Events waiting for the next group commit.', registers: [registry] }),
    commitSeconds: new Histogram({
      name: 'ensemble_log_commit_seconds', help: 'Duration of one group commit to the durable log.',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry],
    }),
    groupSize: new Histogram({
      name: 'ensemble_log_group_events', help: 'Events per group commit.',
      buckets: [1, 10, 50, 100, 500, 1000, 5000, 10000], registers: [registry],
    }),
    processorBatchSeconds: new Histogram({
      name: 'ensemble_processor_batch_seconds', help: 'Duration of one processor micro-batch (read, resolve, commit).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry],
    }),
    segmentBatchSeconds: new Histogram({
      name: 'ensemble_segment_batch_seconds', help: 'Time the segment engine spends on one slice (up to 500 events) of a processed batch, during which nothing else runs on the event loop.',
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5], registers: [registry],
    }),
    securityEvents: new Counter({
      name: 'ensemble_security_events_total', help: 'Security events detected (auth-failure-spike, export-volume), each possibly a breach to assess.',
      labelNames: ['kind'] as const, registers: [registry],
    }),
    deliveries: new Counter({
      name: 'ensemble_deliveries_total', help: 'Delivery outcomes per destination: delivered, retried, dropped (with the reason), dead.',
      labelNames: ['destination', 'outcome', 'reason'] as const, registers: [registry],
    }),
    deliverySeconds: new Histogram({
      name: 'ensemble_delivery_latency_seconds', help: 'From the change (membership, event) to its delivery, per destination.',
      labelNames: ['destination'] as const, buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60, 600], registers: [registry],
    }),
    segmentChanges: new Counter({ name: 'ensemble_segment_changes_total', help: 'Segment memberships entered and exited.', labelNames: ['change'] as const, registers: [registry] }),
    segmentMismatch: new Gauge({
      name: 'ensemble_segment_reconcile_mismatch', help: 'Profiles on which a segment\'s incremental members and its SQL result disagreed at the last reconciliation (expected 0).',
      labelNames: ['segment'] as const, registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
