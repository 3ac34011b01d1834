/**
 * The central server's figures (GET /v1/monitoring) for the monitoring
 * screen when online. The call is the device's (its access token) without a
 * user's proof: the server answers with the device's provider's figures.
 * Country- or region-wide figures need the user's proof headers
 * (core/lookup-proof.ts), which the server takes but this client does not
 * send yet (the user keys are held by main/sync).
 */
import { monitoringReport, type MonitoringQuery, type MonitoringReport } from '#core/monitoring/report.js';

export interface ServerMonitoringOptions {
  serverUrl: string;
  fetch: typeof fetch;
  accessToken: () => Promise<string>;
}

export class MonitoringUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MonitoringUnavailable';
  }
}

/** The path and query string of the server's report for `query`. */
export function monitoringPath(query: MonitoringQuery): string {
  const q = new URLSearchParams({ from: query.from, to: query.to });
  if (query.serviceCode !== undefined) q.set('service', query.serviceCode);
  return `/v1/monitoring?${q.toString()}`;
}

export async function serverReport(o: ServerMonitoringOptions, query: MonitoringQuery): Promise<MonitoringReport> {
  const token = await o.accessToken();
  const res = await o.fetch(new URL(monitoringPath(query), o.serverUrl), {
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
    signal: AbortSignal.timeout(15_000),
  });
  if (!res.ok) throw new MonitoringUnavailable(`the server answered ${res.status}`);
  const parsed = monitoringReport.safeParse(await res.json());
  if (!parsed.success) throw new MonitoringUnavailable('the server sent a report of another shape');
  return parsed.data;
}
