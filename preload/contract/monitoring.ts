/**
 * The monitoring report (seed 002 §5.6): merged into the contract in
 * preload/api.ts. Local figures come from this workstation's database; the
 * server's from the central server (`source: 'server'`, when online).
 */
import { z } from 'zod';
import { monitoringReport } from '#core/monitoring/report.js';
import type { CallSpec } from './call.js';

export const monitoringInput = z
  .strictObject({
    from: z.iso.date(),
    to: z.iso.date(),
    serviceCode: z.string().max(64).optional(),
    source: z.enum(['local', 'server']).default('local'),
  })
  .refine((q) => q.from <= q.to, { message: 'from must not be after to', path: ['to'] });
export type MonitoringInput = z.input<typeof monitoringInput>;

export const monitoringContract = {
  'monitoring.report': { kind: 'read', input: monitoringInput, output: monitoringReport },
} as const satisfies Record<string, CallSpec>;
