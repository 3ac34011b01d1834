/**
 * The snapshot's reads, on the embedded database: whatever the partition's
 * shape (dense, or sparse where later writes superseded most versions), every
 * live row comes once, in version order, its data as it was stored.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from './postgres/sql.js';
import { bump, writeFeed } from './feed.js';
import { snapshotLine, type SnapshotLine } from '#core/protocol.js';
import { snapshot } from './pull.js';
import { startServer, type RunningServer } from './server.js';

/** A response that takes whatever is written (never full). */
class Collected extends EventEmitter {
  destroyed = false;
  text = '';
  writeHead() {
    return this;
  }
  write(chunk: string) {
    this.text += chunk;
    return true;
  }
  end() {
    this.emit('finish');
  }
}

let server: RunningServer;
let sql: Sql;

beforeAll(async () => {
  server = await startServer({ seed: 'none', log: () => undefined });
  sql = server.sql;
});
afterAll(() => server.close());

async function write(partition: string, id: string, data: unknown): Promise<number> {
  return sql.tx(async (tx) => {
    const v = await bump(tx, partition);
    await writeFeed(tx, partition, 'region', id, 'upsert', data, v);
    return v;
  });
}

async function read(partition: string, batchRows: number): Promise<SnapshotLine[]> {
  const res = new Collected();
  const device = { deviceId: 'd', providerId: 'p', partitions: [partition] };
  await snapshot(sql, device, new URLSearchParams({ partition }), res as unknown as ServerResponse, () => 0, batchRows);
  return res.text
    .trim()
    .split('\n')
    .map((l) => snapshotLine.parse(JSON.parse(l)));
}

describe('snapshot reads', () => {
  it('sends each live row of a sparse partition once, in version order, with its data as stored', async () => {
    const partition = 'provider:sparse';
    const expected = new Map<string, { version: number; data: unknown }>();
    for (let i = 0; i < 12; i++) {
      const data = { kato: `k${i}`, nameKk: `Аудан "${i}"\n\\ ${'ж'.repeat(i)}`, nameRu: 'Район\u2028', nameEn: null };
      expected.set(`k${i}`, { version: await write(partition, `k${i}`, data), data });
    }
    // Most versions superseded: k3 rewritten 40 times leaves a long gap of dead versions behind it.
    for (let n = 0; n < 40; n++) {
      const data = { kato: 'k3', nameKk: `v${n}`, nameRu: 'r', nameEn: 'e' };
      expected.set('k3', { version: await write(partition, 'k3', data), data });
    }
    const lines = await read(partition, 3);
    expect(lines[0]).toMatchObject({ kind: 'header', partition, rows: 12 });
    const rows = lines.flatMap((l) => (l.kind === 'row' ? [l.row] : []));
    expect(rows.map((r) => r.id).sort()).toEqual([...expected.keys()].sort());
    expect(rows.map((r) => r.version)).toEqual([...rows.map((r) => r.version)].sort((a, b) => a - b));
    for (const r of rows) {
      expect(r.version).toBe(expected.get(r.id)!.version);
      expect(r.data).toEqual(expected.get(r.id)!.data);
    }
    expect(lines.at(-1)).toMatchObject({ kind: 'end', count: 12, version: expected.get('k3')!.version });
  });

  it('reads a dense partition in batches of any size', async () => {
    const partition = 'provider:dense';
    for (let i = 0; i < 25; i++)
      await write(partition, `d${i}`, { kato: `d${i}`, nameKk: 'a', nameRu: 'b', nameEn: 'c' });
    for (const batch of [1, 4, 25, 100]) {
      const rows = (await read(partition, batch)).flatMap((l) => (l.kind === 'row' ? [l.row.id] : []));
      expect(rows).toEqual(Array.from({ length: 25 }, (_, i) => `d${i}`));
    }
  });

  it('sends a header and a trailer alone for an empty partition', async () => {
    const lines = await read('provider:empty', 10);
    expect(lines).toEqual([
      { kind: 'header', partition: 'provider:empty', rows: 0, serverTime: 0 },
      { kind: 'end', cursor: expect.any(String), version: 0, count: 0 },
    ]);
  });
});
