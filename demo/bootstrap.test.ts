/**
 * The demo start: an empty database filled once, the enrolment's failure
 * logged without stopping the start, the passwords left alone on a database
 * that may not be written, and the demo head's key file in her provider's name.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '#db/connection.js';
import { loadCatalogue } from '#core/node/catalogue-loader.js';
import { openKeyFile, Signer } from '#signing/index.js';
import { fillDemoDatabase, startDemo } from './bootstrap.js';
import { DEMO_HEAD, DEMO_USERS } from './generate.js';
import { DEMO_KEY_PASSWORD, readDemoKeyFile } from './kit.js';

const ROOT = join(import.meta.dirname, '..');
const services = loadCatalogue(join(ROOT, 'resources', 'services')).services;
let dataDir: string;
let database: OpenedDatabase;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'qyzmet-demo-start-'));
  database = await openDatabase(join(dataDir, 'qyzmet.db'));
});
afterAll(() => database.close());

const count = () => (database.sqlite.prepare('SELECT count(*) AS n FROM applications').get() as { n: number }).n;

describe('the demo start', () => {
  it('fills an empty database once, and a filled one never again', () => {
    const logged: string[] = [];
    const fill = { applications: 40, seed: 1, now: Date.UTC(2026, 2, 2), services, calendar: undefined };
    fillDemoDatabase(database.sqlite, { ...fill, applications: 0 }, (m) => logged.push(m));
    expect(count()).toBe(0);
    fillDemoDatabase(database.sqlite, fill, (m) => logged.push(m));
    expect(count()).toBe(40);
    fillDemoDatabase(database.sqlite, { ...fill, applications: 100 }, (m) => logged.push(m));
    expect(count()).toBe(40);
    expect(logged).toEqual(['demo: 40 applications']);
  });

  it('goes on when the enrolment fails, sets no password it may not write, and makes the head’s key file', async () => {
    const logged: string[] = [];
    const passwords: number[] = [];
    await startDemo({
      db: database.db,
      dataDir,
      now: () => 7,
      log: (m) => logged.push(m),
      enrolment: {
        providerId: 'prov-x',
        enrolAndSync: () => Promise.reject(new Error('no server')),
      },
      demoMode: true,
      writable: () => false,
      setPasswords: (at) => (passwords.push(at), 1),
    });
    expect(passwords).toEqual([]);
    expect(logged[0]).toBe('demo: could not enrol with the central server: no server');
    expect(logged[1]).toMatch(
      /^demo: key file .*RSA256_.*\.p12 \(password "demo"\), trusted in this data folder only$/,
    );

    const provider = database.sqlite
      .prepare(`SELECT p.bin FROM user_roles r JOIN providers p ON p.id = r.provider_id WHERE r.user_id = ? LIMIT 1`)
      .get(DEMO_USERS.head.id) as { bin: string };
    const key = openKeyFile(
      readDemoKeyFile({
        keyFile: join(dataDir, 'demo-signing', `RSA256_${DEMO_HEAD.iin}.p12`),
        password: '',
        created: false,
      }),
      Buffer.from(DEMO_KEY_PASSWORD),
    );
    const signer = await Signer.create({
      trustDirs: [join(dataDir, 'trusted')],
      crlDir: join(dataDir, 'crl'),
      online: () => false,
    });
    expect(signer.facts(key.certificate)).toMatchObject({ iin: DEMO_HEAD.iin, bin: provider.bin });
    await signer.close();
  });

  it('sets the passwords when the database may be written; the kit is made once', async () => {
    const logged: string[] = [];
    await startDemo({
      db: database.db,
      dataDir,
      now: () => 7,
      log: (m) => logged.push(m),
      demoMode: true,
      writable: () => true,
      setPasswords: (at) => (at === 7 ? 6 : 0),
    });
    expect(logged).toEqual(['demo: the demo users log in with the demo password']);
  });

  it('only enrols outside the demo start proper', async () => {
    const logged: string[] = [];
    let enrolled = 0;
    await startDemo({
      db: database.db,
      dataDir: mkdtempSync(join(tmpdir(), 'qyzmet-demo-start-')),
      now: () => 7,
      log: (m) => logged.push(m),
      enrolment: { providerId: 'prov-x', enrolAndSync: async () => void enrolled++ },
      demoMode: false,
      writable: () => true,
      setPasswords: () => {
        throw new Error('not in a demo start');
      },
    });
    expect(enrolled).toBe(1);
    expect(logged).toEqual(['demo: enrolled in prov-x and took the first sync']);
  });
});
