/**
 * Test helpers: a real Ensemble on 127.0.0.1 (random port) over a real DuckDB file and log in a
 * fresh temp folder, with a workspace and a source ready.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { openEnsemble, type Ensemble } from '../../src/main/app.js';
import { parseConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import type { Clock } from '../../src/platform/clock.js';

/** A clock that runs with real time plus an offset the test moves forward. */
export function shiftedClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => { offset += ms; } };
}

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestServer {
  ensemble: Ensemble;
  url: string;
  dir: string;
  workspaceId: string;
  sourceId: string;
  writeKey: string;
  /** Every log line written so far (JSON text). */
  logs: string[];
  /** Admin API call with the bearer token; returns status and parsed JSON. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Waits until the processor has consumed everything committed, and segments have seen it. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export function tempDir(prefix = 'ensemble-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startServer(overrides: Record<string, unknown> = {}, dir = tempDir(), clock?: Clock): Promise<TestServer> {
  const logs: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { logs.push(chunk.toString()); done(); } });
  const config = parseConfig({ port: 0, dataPath: join(dir, 'ensemble.duckdb'), adminToken: ADMIN_TOKEN, logLevel: 'info', ...overrides });
  const ensemble = await openEnsemble(config, { logger: createLogger('info', sink), ...(clock ? { clock } : {}) });
  const url = await ensemble.listen();
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const ws = ensemble.catalog.listWorkspaces()[0] ?? (await ensemble.catalog.createWorkspace('Test shop'));
  const source = ensemble.catalog.sources.list(ws.id)[0] ?? (await ensemble.catalog.createSource(ws.id, { name: 'Web', kind: 'website' }));
  return {
    ensemble, url, dir, workspaceId: ws.id, sourceId: source.id, writeKey: source.writeKey, logs, api,
    settle: async () => {
      await ensemble.processor.idle();
      // Events derived from processed ones (geofence crossings) are processed too.
      await ensemble.geo.tracker.flushed();
      await ensemble.processor.idle();
      await ensemble.segments.feed.idle();
    },
    close: () => ensemble.close(),
  };
}

/** Runs `fn` against a server of its own (e.g. with other settings), then stops it and removes its files. */
export async function withServer<T>(overrides: Record<string, unknown>, fn: (s: TestServer) => Promise<T>): Promise<T> {
  const server = await startServer(overrides);
  try {
    return await fn(server);
  } finally {
    await server.close();
    removeDir(server.dir);
  }
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Basic-auth header value for a write key, as Segment SDKs send it. */
export function basic(writeKey: string): string {
  return `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
}

/** POSTs JSON (or raw bytes) to an ingest route; returns status, headers and parsed body. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const raw = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw as BodyInit });
  const text = await res.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body: parsed, headers: res.headers };
}
