/**
 * The offices a load run's workstations serve, read the way a workstation
 * learns them: by pulling the global partition (providers, services) and its
 * office's (users with their roles, staff). Each office needs a clerk, a head and at least one
 * active executor; offices without them are left out.
 */
import type { ZodType } from 'zod';
import { serviceDefinition, type ServiceDefinition } from '#core/catalogue/schema.js';
import { planSteps } from '#core/workflow/machine.js';
import { PROVIDERS, SERVICES_BY_KIND } from '#demo/names.js';
import { GLOBAL_PARTITION, providerData, serviceData, staffData, userData, type FeedRow } from '#core/protocol.js';
import type { DeviceClient } from './device-client.js';
import type { Office } from './workload.js';

/** Every row of a partition, page by page. */
export async function pullAll(client: DeviceClient, partition: string, limit = 5_000): Promise<FeedRow[]> {
  const rows: FeedRow[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page = await client.pull(partition, cursor, limit);
    rows.push(...page.rows);
    cursor = page.cursor;
    if (!page.hasMore) return rows;
  }
}

export interface Directory {
  offices: Office[];
  services: Map<string, ServiceDefinition>;
  /** Each user's login, by id (a workstation logs its users in online to get their keys). */
  logins: Map<string, string>;
}

/**
 * The offices `client` sees: the global partition and its own office's
 * (where the people working there are published).
 */
export async function discoverOffices(client: DeviceClient): Promise<Directory> {
  const rows: FeedRow[] = [];
  for (const partition of new Set([GLOBAL_PARTITION, ...client.partitions]))
    rows.push(...(await pullAll(client, partition)));
  const of = <T>(entity: FeedRow['entity'], schema: ZodType<T>): T[] =>
    rows.filter((r) => r.entity === entity && r.op === 'upsert').map((r) => schema.parse(r.data));

  const services = new Map<string, ServiceDefinition>();
  for (const s of of('service', serviceData)) {
    const def = serviceDefinition.safeParse(s.definition);
    if (def.success) services.set(s.code, def.data);
  }
  const officeServices = [...services.values()].filter((d) => planSteps(d, 'office')).map((d) => d.code);

  const users = of('user', userData).filter((u) => !u.blocked);
  const holders = (providerId: string, role: string) =>
    users.filter((u) => u.roles.some((r) => r.role === role && r.providerId === providerId)).map((u) => u.id);
  const activeStaff = new Set(
    of('staff', staffData)
      .filter((s) => s.active)
      .map((s) => `${s.providerId}/${s.userId}`),
  );

  const offices: Office[] = [];
  for (const p of of('provider', providerData)) {
    const kind = PROVIDERS.find((seed) => seed.id === p.id)?.kind;
    const serviceCodes = (kind ? SERVICES_BY_KIND[kind] : officeServices).filter((c) => officeServices.includes(c));
    const clerkId = holders(p.id, 'clerk')[0] ?? holders(p.id, 'operator')[0];
    const headId = holders(p.id, 'head')[0];
    const executorIds = holders(p.id, 'executor').filter((u) => activeStaff.has(`${p.id}/${u}`));
    if (!clerkId || !headId || executorIds.length === 0 || serviceCodes.length === 0) continue;
    offices.push({
      providerId: p.id,
      regionKato: p.regionKato,
      locality: p.localityRu,
      serviceCodes,
      clerkId,
      headId,
      executorIds,
    });
  }
  return { offices, services, logins: new Map(users.map((u) => [u.id, u.login])) };
}
