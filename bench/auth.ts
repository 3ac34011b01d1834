/**
 * The login figure of `npm run bench` (alone: `npm run bench -- --only auth`):
 *  - auth.password_login_ms: one password login check on the central server
 *    (server/src/auth/check.ts: the guard's claim and count in the database,
 *    the user read, the scrypt) with a hash at the current cost
 *    (DEFAULT_SCRYPT, N=2^17), median of `runs`; baseline: the same check
 *    with a hash at the former cost (N=2^15, r=8, p=1). Goal ≤ 500 ms.
 */
import { DEFAULT_SCRYPT, hashPassword, type ScryptParams } from '#core/auth/passwords.js';
import { LoginCheck } from '#server/src/auth/check.js';
import { LoginCertificates } from '#server/src/auth/certificates.js';
import { LoginGuard } from '#server/src/auth/failures.js';
import { migrate } from '#server/src/postgres/migrate.js';
import { pgliteSql, type Sql } from '#server/src/postgres/sql.js';
import { median, type Report } from './report.js';

const FORMER_SCRYPT: ScryptParams = { ln: 15, r: 8, p: 1 };
const PASSWORD = 'Bench-Password-2026';

async function loginMs(sql: Sql, login: string, scrypt: ScryptParams, runs: number): Promise<number> {
  const check = new LoginCheck({
    certificates: new LoginCertificates({ trustDirs: [], crlDir: null }),
    // The hash is already at this cost: no upgrade inside the timed check.
    guard: new LoginGuard({ scrypt, sourceDelayMs: () => 0 }),
  });
  const samples: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const t = performance.now();
    const answer = await check.check(sql, 'bench-device', { kind: 'password', login, password: PASSWORD }, Date.now);
    const took = performance.now() - t;
    if (!answer.ok) throw new Error(`bench: the login of ${login} was refused (${answer.reason})`);
    if (i > 0) samples.push(took); // the first warms the pages up
  }
  return median(samples);
}

export async function benchAuth(report: Report, runs: number): Promise<void> {
  const sql = await pgliteSql(null);
  try {
    await migrate(sql);
    const now = Date.now();
    for (const [id, scrypt] of [
      ['bench-new', DEFAULT_SCRYPT],
      ['bench-old', FORMER_SCRYPT],
    ] as const) {
      await sql.query(
        `INSERT INTO users (id, login, full_name, iin, password_hash, updated_at) VALUES ($1, $1, $1, '900101300017', $2, $3)`,
        [id, await hashPassword(PASSWORD, scrypt), now],
      );
    }
    const current = await loginMs(sql, 'bench-new', DEFAULT_SCRYPT, Math.max(runs, 5));
    const former = await loginMs(sql, 'bench-old', FORMER_SCRYPT, Math.max(runs, 5));
    report.add('auth.password_login_ms', current, 'ms', former);
  } finally {
    await sql.close();
  }
}
