/**
 * The monitoring call's sources: the server's report read and checked, and
 * the errors the user sees when there is no server or it fails.
 */
import { describe, expect, it } from 'vitest';
import { buildReport } from '#core/monitoring/report.js';
import { ServiceError } from '../rpc.js';
import { monitoringHandlers } from './handlers.js';
import type { LocalMonitoring } from './report.js';

const report = buildReport({
  query: { from: '2026-03-01', to: '2026-03-31' },
  cells: [{ regionKato: '750000000', status: 'received', decision: 'none', n: 2 }],
  overdue: [],
  regions: [],
  everyRegion: false,
  source: 'server',
  reach: 'provider',
  dataAt: 1,
});
const local = { report: () => ({ ...report, source: 'local' }) } as unknown as LocalMonitoring;
const scope = () => ({ all: false, providerIds: ['p'], regionKatos: [] });
const input = { from: '2026-03-01', to: '2026-03-31' };

function server(answer: () => Response) {
  const seen: string[] = [];
  const fetch = ((url: URL, init: RequestInit) => {
    seen.push(`${url.pathname}${url.search} ${(init.headers as Record<string, string>).Authorization}`);
    return Promise.resolve(answer());
  }) as unknown as typeof globalThis.fetch;
  return { seen, options: { serverUrl: 'https://server.test', fetch, accessToken: () => Promise.resolve('tok') } };
}

async function refusal(p: unknown): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ServiceError) return e.code;
    throw e;
  }
  return 'none';
}

const CTX = { transport: 'bridge' } as const;

describe('monitoring.report', () => {
  it("reads the server's report with the device's token, and the local one by default", async () => {
    const s = server(() => Response.json(report));
    const h = monitoringHandlers(local, scope, s.options)['monitoring.report'];
    expect(await h({ ...input, serviceCode: 'svc', source: 'server' }, CTX)).toEqual(report);
    expect(s.seen).toEqual(['/v1/monitoring?from=2026-03-01&to=2026-03-31&service=svc Bearer tok']);
    expect(((await h({ ...input, source: 'local' }, CTX)) as { source: string }).source).toBe('local');
  });

  it('refuses the server source without a server, and a failed or malformed answer, by code', async () => {
    expect(
      await refusal(monitoringHandlers(local, scope, null)['monitoring.report']({ ...input, source: 'server' }, CTX)),
    ).toBe('monitoringOffline');
    const failing = server(() => new Response('{}', { status: 500 }));
    expect(
      await refusal(
        monitoringHandlers(local, scope, failing.options)['monitoring.report']({ ...input, source: 'server' }, CTX),
      ),
    ).toBe('monitoringUnavailable');
    const odd = server(() => Response.json({ rows: 'no' }));
    expect(
      await refusal(
        monitoringHandlers(local, scope, odd.options)['monitoring.report']({ ...input, source: 'server' }, CTX),
      ),
    ).toBe('monitoringUnavailable');
  });
});
