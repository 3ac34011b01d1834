/** The output documents' calls (preload/contract/documents.ts). */
import type { documentsContract } from '#preload/contract/documents.js';
import { ServiceError, type Handlers } from '../rpc.js';
import type { DocumentsService } from './service.js';

export type DocumentsHandlers = Pick<Handlers, keyof typeof documentsContract>;

export function documentsHandlers(
  service: DocumentsService,
  currentUser: () => { id: string } | null,
): DocumentsHandlers {
  return {
    'documents.pdf': async (input) => {
      const user = currentUser();
      if (!user) throw new ServiceError('noSession', 'errors.sessionUnavailable');
      const { fileName, pdf } = await service.pdf(input.id, { id: user.id });
      return { fileName, pdf: Buffer.from(pdf).toString('base64') };
    },
  };
}
