/**
 * A workstation in a child process, for the kill suite:
 * `node --import tsx integration/faults/workstation.ts '<plan JSON>'`.
 *
 * It opens the local database the way the app does (openDatabase: integrity
 * check, migrations), enrols when it is not enrolled yet, logs the actor in
 * online when it holds no user key yet (their changes carry that proof), makes real local
 * changes through the WorkflowService (the head reassigns applications of her
 * office: application row, hash-chained event and outbox row in one SQLite
 * transaction), and syncs with the real SyncEngine. The parent kills it with
 * SIGKILL wherever it is and starts it again.
 *
 * It reports on stdout, one line per fact, so the parent can aim its kills
 * and check what was promised:
 *   open                        the database is open and checked
 *   change <hash>               a local change committed (its event hash)
 *   net> <METHOD> <path>        a request leaves
 *   net< <path> <status>        its answer's head arrived
 *   net. <path>                 its answer's body was read to the end
 *   net! <path>                 it failed (network, timeout)
 *   sync <n> / synced <n> <pending>   around each engine run
 *   done <pending>              finished (pending outbox rows left)
 */
import { join } from 'node:path';
import { openDatabase } from '#db/connection.js';
import { loadCatalogue } from '#core/node/catalogue-loader.js';
import { mulberry32 } from '#demo/generate.js';
import { weekendOnlyCalendar } from '#core/workflow/deadlines.js';
import { WorkflowService } from '#main/workflow/service.js';
import { SyncEngine } from '#main/sync/engine.js';
import { loginOnline } from '#main/sync/testing.js';
import { makeChanges } from './changes.js';

export interface WorkstationPlan {
  dbPath: string;
  dataDir: string;
  serverUrl: string;
  /** Enrol with these when the database is not enrolled yet. */
  enrol: { providerId: string; login: string; password: string };
  /** The head of the office who makes the changes. */
  actorId: string;
  /** Their login (password: the enrolment's), to log them in online for a user key. */
  actorLogin: string;
  /** Local changes to make before each sync round. */
  changesPerRound: number;
  rounds: number;
  seed: number;
  /** The workstation's clock against the real one (a clock a day off). */
  clockOffsetMs?: number;
  /** Per request, ms. */
  timeoutMs?: number;
  /** Snapshot rows per SQLite transaction, and the size from which a snapshot loads with the journal's triggers off. */
  snapshotBatchRows?: number;
  bulkThreshold?: number;
}

const ROOT = join(import.meta.dirname, '..', '..');
const say = (line: string) => process.stdout.write(line + '\n');

/** fetch that reports each request's progress on stdout (the parent aims its kills with it). */
function tracingFetch(): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const path = url.pathname;
    say(`net> ${method} ${path}`);
    let res: Response;
    try {
      res = await fetch(input, init);
    } catch (e) {
      say(`net! ${path}`);
      throw e;
    }
    say(`net< ${path} ${res.status}`);
    if (!res.body) {
      say(`net. ${path}`);
      return res;
    }
    const body = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        flush: () => {
          say(`net. ${path}`);
        },
      }),
    );
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

async function main(plan: WorkstationPlan): Promise<void> {
  const now = () => Date.now() + (plan.clockOffsetMs ?? 0);
  const database = await openDatabase(plan.dbPath, { backupEveryMs: 0, now });
  say('open');
  const { sqlite } = database;
  const services = loadCatalogue(join(ROOT, 'resources', 'services')).services;
  const workflow = new WorkflowService({ sqlite, services, calendar: weekendOnlyCalendar(), now });
  const engine = new SyncEngine({
    sqlite,
    serverUrl: plan.serverUrl,
    dataDir: plan.dataDir,
    now,
    fetch: tracingFetch(),
    backoff: { baseMs: 50, capMs: 500 },
    watchOutboxMs: 0,
    ...(plan.snapshotBatchRows ? { snapshotBatchRows: plan.snapshotBatchRows } : {}),
    ...(plan.bulkThreshold ? { bulkThreshold: plan.bulkThreshold } : {}),
    ...(plan.timeoutMs ? { requestTimeoutMs: plan.timeoutMs } : {}),
  });
  if (!engine.enrolled()) {
    await engine.enrol({ ...plan.enrol, name: 'fault suite workstation' });
    say('enrolled');
  }
  if (!engine.hasUserKey(plan.actorId)) {
    await loginOnline(engine, plan.serverUrl, [plan.actorLogin], plan.enrol.password, tracingFetch());
    say('logged in');
  }
  const random = mulberry32(plan.seed);
  const pending = () =>
    (sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE state = 'pending'").get() as { n: number }).n;

  for (let round = 1; round <= plan.rounds; round++) {
    makeChanges(
      sqlite,
      workflow,
      { providerId: plan.enrol.providerId, actorId: plan.actorId, count: plan.changesPerRound, random },
      say,
    );
    say(`sync ${round}`);
    await engine.runOnce();
    const failure = engine.lastFailure();
    if (failure) say(`error ${failure.message.replace(/\s+/g, ' ')}`);
    say(`synced ${round} ${pending()}`);
  }
  await engine.stop();
  say(`done ${pending()}`);
  database.close();
}

await main(JSON.parse(process.argv[2] ?? '{}') as WorkstationPlan);
