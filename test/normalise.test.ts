/** Times a JavaScript Date cannot hold are refused per event, instead of failing the whole request. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalise } from '../src/collect/steps/normalise.js';

const input = { type: null, envelope: {}, receivedAt: Date.parse('2026-12-01T00:00:00Z'), source: { id: 'src_1', workspaceId: 'ws_1' } };

test('a timestamp beyond the Date range is an invalid timestamp, not a crash', () => {
  for (const timestamp of [1e20, 8.64e15 + 1]) {
    const out = normalise({ type: 'track', event: 'x', userId: 'u', timestamp }, input);
    assert.equal(out.kind, 'drop');
    assert.equal(out.kind === 'drop' && out.code, 'ENSEMBLE_ERR_EVENT_TIMESTAMP');
  }
  // In range, but the clock correction would land outside it.
  const skewed = normalise({ type: 'track', event: 'x', userId: 'u', timestamp: 8.64e15, sentAt: 1 }, input);
  assert.equal(skewed.kind === 'drop' && skewed.code, 'ENSEMBLE_ERR_EVENT_TIMESTAMP');
  const fine = normalise({ type: 'track', event: 'x', userId: 'u', timestamp: 8.64e15 }, input);
  assert.equal(fine.kind === 'ok' && fine.value.timestamp, '+275760-09-13T00:00:00.000Z');
});
