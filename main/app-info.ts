/** What the app says about itself (`app.info`): its version, transport, database file and where the check stands. */
import type { IntegrityCheck } from '#db/connection.js';
import { databaseCheckInfo } from './database-check.js';
import type { Handlers } from './rpc.js';

export interface AppInfo {
  version: string;
  transport: 'ipc' | 'bridge';
  databasePath: string;
  check: IntegrityCheck;
}

export function appInfoHandlers(info: AppInfo): Pick<Handlers, 'app.info'> {
  return {
    'app.info': () => ({
      version: info.version,
      transport: info.transport,
      databasePath: info.databasePath,
      database: databaseCheckInfo(info.check),
    }),
  };
}
