import { randomUUID } from 'node:crypto';
import { auth, demoPattern, startServer } from '../support';

/** Reads a server-sent event stream until `predicate` matches an event, or the stream ends. */
async function readEvents(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  predicate: (event: { event: string; data: unknown }) => boolean
): Promise<{ event: string; data: unknown } | undefined> {
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return undefined;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.+)$/m.exec(block)?.[1];
      const data = /^data: (.+)$/m.exec(block)?.[1];
      if (event && data) {
        const parsed = { event, data: JSON.parse(data) as unknown };
        if (predicate(parsed)) return parsed;
      }
    }
  }
}

describe('server lifecycle', () => {
  it('graceful shutdown lets an in-flight request finish, then refuses new ones', async () => {
    const server = await startServer({ patterns: [demoPattern({ slowMs: 400 })] });
    const sentAt = Date.now();
    const inFlight = fetch(`${server.baseUrl}/demo/slow`, { headers: auth });
    await new Promise((resolve) => setTimeout(resolve, 100));
    let closedAt = 0;
    const closing = server.close().then(() => {
      closedAt = Date.now();
    });
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ finished: true });
    await closing;
    // The close waited for the 400 ms handler. Timers fire late, not early (up to a millisecond of clock rounding),
    // so a loaded machine makes this longer, never shorter; a close that did not wait ends ~100 ms after sending.
    expect(closedAt - sentAt).toBeGreaterThanOrEqual(390);
    await expect(fetch(`${server.baseUrl}/health`)).rejects.toThrow();
  });

  it('shutdown releases a hanging request with a 504 instead of waiting for the ceiling', async () => {
    const server = await startServer({ patterns: [demoPattern({ maxHangMs: 60_000 })] });
    const hanging = fetch(`${server.baseUrl}/demo/echo`, {
      headers: { ...auth, 'x-fault-hang': 'true' }
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await server.close();
    expect((await hanging).status).toBe(504);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('streams traffic to the console over server-sent events, and ends the stream on shutdown', async () => {
    const server = await startServer();
    const stream = await fetch(`${server.baseUrl}/console/events`);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const state = await readEvents(reader, (e) => e.event === 'state');
    expect(state?.data).toMatchObject({
      patterns: [
        {
          name: 'demo',
          endpoints: expect.arrayContaining([
            { method: 'GET', path: '/demo/echo', description: 'Echo, with fault injection' }
          ])
        }
      ]
    });

    const id = randomUUID();
    const res = await fetch(`${server.baseUrl}/demo/echo`, {
      headers: { ...auth, 'x-correlation-id': id }
    });
    expect(res.status).toBe(200);
    const traffic = await readEvents(
      reader,
      (e) =>
        e.event === 'traffic' &&
        (e.data as { kind: string }).kind === 'request' &&
        (e.data as { correlationId: string }).correlationId === id
    );
    expect(traffic?.data).toMatchObject({
      kind: 'request',
      pattern: 'demo',
      method: 'GET',
      path: '/demo/echo',
      status: 200,
      correlationId: id
    });
    expect(server.app.erp.traffic.subscriberCount).toBe(1);

    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await readEvents(reader, () => false)).toBeUndefined();
  });

  it('replays buffered traffic after Last-Event-ID on reconnect', async () => {
    const server = await startServer();
    try {
      for (let i = 0; i < 3; i++) await (await fetch(`${server.baseUrl}/health`)).text();
      const [first] = server.app.erp.traffic.recent();
      const stream = await fetch(`${server.baseUrl}/console/events`, {
        headers: { 'last-event-id': String(first?.id) }
      });
      const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
      const replayed = await readEvents(reader, (e) => e.event === 'traffic');
      expect((replayed?.data as { id: number }).id).toBe((first?.id ?? 0) + 1);
      await reader.cancel();
    } finally {
      await server.close();
    }
  });

  it('bounds the traffic ring buffer', async () => {
    const server = await startServer();
    try {
      const { traffic } = server.app.erp;
      for (let i = 0; i < traffic.capacity + 20; i++) traffic.note('demo', `n${i}`);
      const recent = traffic.recent();
      expect(recent).toHaveLength(traffic.capacity);
      expect(recent.at(-1)).toMatchObject({ kind: 'note', message: `n${traffic.capacity + 19}` });
    } finally {
      await server.close();
    }
  });
});

describe('event stream back-pressure', () => {
  it('drops a stream whose reader stopped reading instead of buffering without bound', async () => {
    const server = await startServer();
    try {
      const stream = await fetch(`${server.baseUrl}/console/events`);
      expect(stream.status).toBe(200);
      // Never read the body: the socket buffers fill, then the server's queue grows past its limit.
      const { traffic } = server.app.erp;
      expect(traffic.subscriberCount).toBe(1);
      const big = { blob: 'x'.repeat(64 * 1024) };
      for (let i = 0; i < 2_000 && traffic.subscriberCount > 0; i++) {
        traffic.note('demo', `bulk ${i}`, big);
        if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      expect(traffic.subscriberCount).toBe(0);
      await stream.body?.cancel();
    } finally {
      await server.close();
    }
  });
});
