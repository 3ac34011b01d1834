/**
 * The monitoring call for the composition root (main/app.ts): local figures
 * within the caller's scope, or the central server's when asked and online.
 */
import { ServiceError, type Handlers, type Principal } from '../rpc.js';
import type { DataScope } from '../auth/permissions.js';
import type { LocalMonitoring } from './report.js';
import { serverReport, type ServerMonitoringOptions } from './server.js';

export function monitoringHandlers(
  local: LocalMonitoring,
  scopeOf: (principal: Principal | null | undefined) => DataScope,
  server: ServerMonitoringOptions | null,
): Pick<Handlers, 'monitoring.report'> {
  return {
    'monitoring.report': async (input, ctx) => {
      const { source, ...query } = input;
      if (source === 'local') return local.report(query, scopeOf(ctx.principal));
      if (!server) throw new ServiceError('monitoringOffline', 'monitoring.error.offline');
      try {
        return await serverReport(server, query);
      } catch {
        throw new ServiceError('monitoringUnavailable', 'monitoring.error.unavailable');
      }
    },
  };
}
