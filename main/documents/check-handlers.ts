/**
 * `documents.check`: a paper's file in, what its codes hold and whether they
 * stand out (main/documents/check.ts). Any logged-in user may check a paper;
 * nothing is read from or written to the database.
 */
import type { Handlers } from '../rpc.js';
import { ServiceError } from '../rpc.js';
import { checkPaper, type CertificateVerifier } from './check.js';

export function paperCheckHandlers(
  verifier: CertificateVerifier,
  currentUser: () => { id: string } | null,
): Pick<Handlers, 'documents.check'> {
  return {
    'documents.check': async (input) => {
      if (!currentUser()) throw new ServiceError('noSession', 'errors.sessionUnavailable');
      return checkPaper(Buffer.from(input.file, 'base64'), { verifier });
    },
  };
}
