/**
 * Who works at this workstation. Until login (password / EDS) lands, the
 * session is the user named by the `session.userId` setting, which the demo
 * start sets to the demo head; with no such user there is no session.
 */
import { eq } from 'drizzle-orm';
import type { Db } from '../../db/connection.js';
import { settings, userRoles, users } from '../../db/schema.js';

const KEY = 'session.userId';

export interface SessionUser {
  id: string;
  login: string;
  fullName: string;
  roles: { role: (typeof userRoles.$inferSelect)['role']; providerId: string }[];
}

export class SessionStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  setUser(userId: string): void {
    this.db
      .insert(settings)
      .values({ key: KEY, value: userId, updatedAt: this.now() })
      .onConflictDoUpdate({ target: settings.key, set: { value: userId, updatedAt: this.now() } })
      .run();
  }

  current(): SessionUser | null {
    const row = this.db.select().from(settings).where(eq(settings.key, KEY)).get();
    if (typeof row?.value !== 'string') return null;
    const user = this.db.select().from(users).where(eq(users.id, row.value)).get();
    if (!user || user.blocked) return null;
    const roles = this.db
      .select({ role: userRoles.role, providerId: userRoles.providerId })
      .from(userRoles)
      .where(eq(userRoles.userId, user.id))
      .all();
    return { id: user.id, login: user.login, fullName: user.fullName, roles };
  }
}
