/**
 * Test fixtures of the core: the real catalogue, a fixed clock, cheap scrypt
 * costs and a small valid service definition. For tests only (it reads the
 * repository's resources at import).
 */
import { join } from 'node:path';
import type { ScryptParams } from './auth/passwords.js';
import type { ServiceDefinition } from './catalogue/schema.js';
import { loadCatalogue } from './node/catalogue-loader.js';

export const ROOT = join(import.meta.dirname, '..');
export const SERVICES: readonly ServiceDefinition[] = loadCatalogue(join(ROOT, 'resources', 'services')).services;

/** Wednesday 20 May 2026, 12:30 in Kazakhstan (UTC+5). */
export const NOW = Date.UTC(2026, 4, 20, 7, 30);
export const MINUTE = 60_000;
export const DAY = 86_400_000;

/** Cheap scrypt costs for tests (the parser's minimum); the app uses DEFAULT_SCRYPT. */
export const TEST_SCRYPT: ScryptParams = { ln: 10, r: 8, p: 1 };

/** A small valid definition to build test files from. */
export function minimalService(code: string): ServiceDefinition {
  const t = (en: string) => ({ kk: `${en} kk`, ru: `${en} ru`, en });
  return {
    code,
    version: 1,
    name: t(`Service ${code}`),
    providerKind: { code: 'local-executive-body', name: t('Local executive body') },
    channels: ['office', 'portal'],
    sections: [
      {
        code: 'applicant',
        title: t('Applicant'),
        stage: 'intake',
        fields: [{ code: 'applicantIin', label: t('IIN'), type: 'iin', required: true }],
      },
    ],
    documents: [{ code: 'application', name: t('Application'), required: true, form: 'original' }],
    steps: [
      { code: 'clerk-register', role: 'clerk', name: t('Register'), limit: { unit: 'minutes', value: 20 } },
      { code: 'head-review', role: 'head', name: t('Review'), limit: { unit: 'minutes', value: 20 } },
      { code: 'executor-check', role: 'executor', name: t('Check'), limit: { unit: 'working_days', value: 5 } },
    ],
    results: [
      { code: 'certificate', kind: 'positive', name: t('Certificate') },
      { code: 'reasoned-refusal', kind: 'negative', name: t('Refusal') },
    ],
    refusalReasons: [{ code: 'documents-mismatch', text: t('Documents do not match') }],
    source: { documents: [{ seed: '001', file: '001_test.txt', title: 'Test', parts: 'Item 5' }] },
  };
}
