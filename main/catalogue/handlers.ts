/** The service catalogue's call, for the composition root (main/app.ts): the services loaded at the start. */
import type { ServiceDefinition } from '#core/catalogue/schema.js';
import type { Handlers } from '../rpc.js';

export interface LoadedCatalogue {
  services: readonly ServiceDefinition[];
  problems: { file: string; field: string; message: string }[];
}

export function catalogueHandlers(catalogue: LoadedCatalogue): Pick<Handlers, 'catalogue.list'> {
  return {
    'catalogue.list': () => ({
      services: catalogue.services.map((s) => ({ code: s.code, name: s.name })),
      problems: catalogue.problems,
    }),
  };
}
