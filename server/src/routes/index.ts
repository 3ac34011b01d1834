/**
 * The server's route table: the core (health, devices, push, pull,
 * snapshot) and the modules beside it (login, attachments, reference data,
 * look-ups), each a list of Route objects.
 */
import { LoginCertificates } from '../auth/certificates.js';
import { LoginGuard } from '../auth/failures.js';
import type { Route } from '../http.js';
import { routes as attachmentRoutes } from './attachments.js';
import { createAuthRoutes, defaultAuthOptions, type AuthRoutesOptions } from './auth.js';
import { coreRoutes, type CoreConfig } from './core.js';
import { lookupRoutes } from './lookups.js';
import { routes as monitoringRoutes } from './monitoring.js';
import { routes as referenceRoutes } from './reference.js';

export interface RouteConfig extends Omit<CoreConfig, 'certificates'> {
  /** Trust material and failure delays of the login checks (defaults: routes/auth.ts defaultAuthOptions). */
  auth?: Partial<AuthRoutesOptions>;
}

export function allRoutes(config: RouteConfig): Route[] {
  const auth = { ...defaultAuthOptions(), ...config.auth };
  // One trust for the login checks and for the certificates of pushed signatures.
  const certificates = new LoginCertificates(auth);
  // One guard for the login check and enrolment: their tries count together, under one hash cap.
  const guard = new LoginGuard(auth);
  return [
    ...coreRoutes({ ...config, certificates, guard }),
    ...createAuthRoutes(auth, certificates, guard),
    ...attachmentRoutes,
    ...referenceRoutes,
    ...lookupRoutes(),
    ...monitoringRoutes,
  ];
}
