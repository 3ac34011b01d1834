/**
 * The server's route table: the core (health, devices, push, pull,
 * snapshot) and the modules beside it (login, attachments, reference data,
 * look-ups), each a list of Route objects.
 */
import { LoginCertificates } from '../auth/certificates.js';
import type { Route } from '../http.js';
import { routes as attachmentRoutes } from './attachments.js';
import { createAuthRoutes, defaultAuthOptions, type AuthRoutesOptions } from './auth.js';
import { coreRoutes, type CoreConfig } from './core.js';
import { routes as lookupRoutes } from './lookups.js';
import { routes as referenceRoutes } from './reference.js';

export interface RouteConfig extends Omit<CoreConfig, 'certificates'> {
  /** Trust material and failure delays of the login checks (defaults: routes/auth.ts defaultAuthOptions). */
  auth?: Partial<AuthRoutesOptions>;
}

export function allRoutes(config: RouteConfig): Route[] {
  const auth = { ...defaultAuthOptions(), ...config.auth };
  // One trust for the login checks and for the certificates of pushed signatures.
  const certificates = new LoginCertificates(auth);
  return [
    ...coreRoutes({ ...config, certificates }),
    ...createAuthRoutes(auth, certificates),
    ...attachmentRoutes,
    ...referenceRoutes,
    ...lookupRoutes,
  ];
}
