/** Interface language and night mode, kept in the settings table of the local database. */
import { eq } from 'drizzle-orm';
import type { Db } from '#db/connection.js';
import { settings } from '#db/schema.js';
import { preferences, type Preferences } from '#preload/api.js';

const KEY = 'ui.preferences';
export const DEFAULT_PREFERENCES: Preferences = { language: 'kk', theme: 'light' };

export class PreferencesStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Preferences {
    const row = this.db.select().from(settings).where(eq(settings.key, KEY)).get();
    const parsed = preferences.safeParse(row?.value);
    return parsed.success ? parsed.data : DEFAULT_PREFERENCES;
  }

  set(change: Partial<Preferences>): Preferences {
    const next = preferences.parse({ ...this.get(), ...change });
    this.db
      .insert(settings)
      .values({ key: KEY, value: next, updatedAt: this.now() })
      .onConflictDoUpdate({ target: settings.key, set: { value: next, updatedAt: this.now() } })
      .run();
    return next;
  }
}
