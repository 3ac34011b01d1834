-- The journal of one provider's staff (main/journal/journal.ts, a scoped
-- page: the executor, clerk and head see only their provider's applications)
-- at a million rows: covering indexes led by the provider, in the orders of
-- the journal's sorts, with every filter column inside, so that SQLite walks
-- the provider's part in order and checks the filters without reading the
-- table. Derived from `applications` only.
CREATE INDEX IF NOT EXISTS `applications_scope_submitted_idx` ON `applications` (`provider_id`,`submitted_at`,`status`,`decision`,`service_code`,`due_at`,`applicant_name_norm`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `applications_scope_name_idx` ON `applications` (`provider_id`,`applicant_name_norm`,`submitted_at`,`status`,`decision`,`service_code`,`due_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `applications_scope_number_idx` ON `applications` (`provider_id`,`number`,`submitted_at`,`status`,`decision`,`service_code`,`due_at`);
--> statement-breakpoint
-- Superseded by applications_scope_submitted_idx (the same leading columns,
-- and covering): left in place, SQLite would take it for a scoped page and
-- read the table for every row of the provider.
DROP INDEX IF EXISTS `applications_provider_submitted_idx`;
