/**
 * Closing the server: a connection that was opened but never sent a request must not hold the
 * shutdown (Node would otherwise wait out its 60-s headers timeout), and a request being
 * received when shutdown starts is still answered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { removeDir, startServer } from './helpers/server.js';

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.on('error', reject);
  });
}

test('close() does not wait for a connection that never sent a request', { timeout: 30_000 }, async () => {
  const s = await startServer();
  try {
    const silent = await open(s.url);
    const ended = new Promise<void>((resolve) => silent.on('close', () => resolve()));
    const started = Date.now();
    await s.close();
    await ended;
    // Far below the 60-s headers timeout that would otherwise end it: this is a hang check, not a timing target.
    assert.ok(Date.now() - started < 20_000, 'the silent connection was closed by the shutdown');
  } finally {
    removeDir(s.dir);
  }
});

test('a request whose body is still arriving when close() starts is answered before the server closes', { timeout: 30_000 }, async () => {
  const s = await startServer();
  try {
    const socket = await open(s.url);
    let answer = '';
    socket.on('data', (d: Buffer) => { answer += d.toString(); });
    const body = JSON.stringify({ batch: [{ type: 'track', userId: 'u1', event: 'Slow upload' }] });
    const auth = Buffer.from(`${s.writeKey}:`).toString('base64');
    socket.write(`POST /v1/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${auth}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body.slice(0, 10));
    await new Promise((r) => setTimeout(r, 100)); // the server has the headers, and waits for the rest
    const closing = s.close();
    await new Promise((r) => setTimeout(r, 100));
    socket.write(body.slice(10));
    await closing;
    assert.match(answer, /^HTTP\/1\.1 (200|503) /, `answered, not cut: ${answer.slice(0, 80)}`);
  } finally {
    removeDir(s.dir);
  }
});

test('clients that go away mid-upload or while their events commit do not hold the shutdown', { timeout: 30_000 }, async () => {
  const s = await startServer();
  try {
    const events = Array.from({ length: 200 }, (_, i) => ({ type: 'track', userId: `u${i}`, event: 'Abandoned', properties: { i } }));
    const body = JSON.stringify({ batch: events });
    const auth = Buffer.from(`${s.writeKey}:`).toString('base64');
    const head = `POST /v1/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${auth}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const sockets = await Promise.all(Array.from({ length: 20 }, () => open(s.url)));
    sockets.forEach((socket, i) => socket.write(head + (i % 2 === 0 ? body.slice(0, 10) : body)));
    await new Promise((r) => setTimeout(r, 100)); // half are reading their body, half are being handled
    for (const socket of sockets) socket.destroy(); // no response can ever reach them
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await s.close();
    // A hang check, not a timing target: those requests must no longer count as being handled.
    assert.ok(Date.now() - started < 20_000, 'the abandoned requests did not hold the shutdown');
  } finally {
    removeDir(s.dir);
  }
});
