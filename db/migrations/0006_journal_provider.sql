-- The journal of one provider's staff as the planner's own predicate
-- (main/journal/journal.ts: a page scoped to one provider is planned like the
-- whole journal, on the provider's part of each index), at a million rows:
--  - journal_provider_counts: exact counts of each provider's applications
--    per (service, status, decision), kept by the journal's triggers;
--  - the filter index and the index of open applications by deadline led by
--    the provider (they replace 0003's; the whole journal seeks them with an
--    IN list of the providers, as it does the other dimensions);
--  - two indexes dropped that the journal's indexes of 0003 make redundant
--    (their columns lead applications_journal_submitted_idx and
--    applications_journal_number_idx): fewer indexes to build after a
--    workstation's first sync.
-- Everything here is derived from `applications`: running it again gives the same.
DROP INDEX IF EXISTS `applications_submitted_idx`;
--> statement-breakpoint
DROP INDEX IF EXISTS `applications_number_idx`;
--> statement-breakpoint
DROP INDEX IF EXISTS `applications_journal_filter_idx`;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `applications_journal_filter_idx` ON `applications` (`provider_id`,`status`,`decision`,`service_code`,`submitted_at`,`due_at`,`applicant_name_norm`);
--> statement-breakpoint
DROP INDEX IF EXISTS `applications_journal_due_idx`;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `applications_journal_due_idx` ON `applications` (`provider_id`,`due_at`,`status`,`decision`,`service_code`,`submitted_at`,`applicant_name_norm`) WHERE `status` NOT IN ('completed', 'completed_with_error');
--> statement-breakpoint
DROP TRIGGER IF EXISTS `applications_journal_ai`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `applications_journal_ad`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `applications_journal_au`;
--> statement-breakpoint
-- Exact counts of applications per (provider, service, status, decision):
-- journal_counts (migration 0003, the whole journal) split by provider.
CREATE TABLE IF NOT EXISTS `journal_provider_counts` (
	`provider_id` text NOT NULL,
	`service_code` text NOT NULL,
	`status` text NOT NULL,
	`decision` text NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY (`provider_id`, `service_code`, `status`, `decision`)
) WITHOUT ROWID;
--> statement-breakpoint
DELETE FROM journal_provider_counts;
--> statement-breakpoint
INSERT INTO journal_provider_counts (provider_id, service_code, status, decision, n)
	SELECT provider_id, service_code, status, decision, count(*) FROM applications
	GROUP BY provider_id, service_code, status, decision;
--> statement-breakpoint

CREATE TRIGGER `applications_journal_ai` AFTER INSERT ON `applications`
BEGIN
	INSERT OR IGNORE INTO journal_tags (dim, value) VALUES ('status', new.status), ('decision', new.decision), ('service', new.service_code);
	INSERT INTO applications_search (rowid, name, st, de, sv) VALUES (
		new.rowid,
		' ' || replace(new.applicant_name_norm, '-', ' ') || ' ',
		(SELECT char(19968 + id, 19968 + id, 19968 + id) FROM journal_tags WHERE dim = 'status' AND value = new.status),
		(SELECT char(19968 + id, 19968 + id, 19968 + id) FROM journal_tags WHERE dim = 'decision' AND value = new.decision),
		(SELECT char(19968 + id, 19968 + id, 19968 + id) FROM journal_tags WHERE dim = 'service' AND value = new.service_code)
	);
	INSERT INTO journal_counts (service_code, status, decision, n) VALUES (new.service_code, new.status, new.decision, 1)
		ON CONFLICT DO UPDATE SET n = n + 1;
	INSERT INTO journal_provider_counts (provider_id, service_code, status, decision, n)
		VALUES (new.provider_id, new.service_code, new.status, new.decision, 1)
		ON CONFLICT DO UPDATE SET n = n + 1;
END;
--> statement-breakpoint

CREATE TRIGGER `applications_journal_ad` AFTER DELETE ON `applications`
BEGIN
	DELETE FROM applications_search WHERE rowid = old.rowid;
	UPDATE journal_counts SET n = n - 1
		WHERE service_code = old.service_code AND status = old.status AND decision = old.decision;
	UPDATE journal_provider_counts SET n = n - 1
		WHERE provider_id = old.provider_id AND service_code = old.service_code AND status = old.status AND decision = old.decision;
END;
--> statement-breakpoint

CREATE TRIGGER `applications_journal_au` AFTER UPDATE OF `applicant_name_norm`, `status`, `decision`, `service_code`, `provider_id` ON `applications`
BEGIN
	INSERT OR IGNORE INTO journal_tags (dim, value) VALUES ('status', new.status), ('decision', new.decision), ('service', new.service_code);
	DELETE FROM applications_search WHERE rowid = old.rowid;
	INSERT INTO applications_search (rowid, name, st, de, sv) VALUES (
		new.rowid,
		' ' || replace(new.applicant_name_norm, '-', ' ') || ' ',
		(SELECT char(19968 + id, 19968 + id, 19968 + id) FROM journal_tags WHERE dim = 'status' AND value = new.status),
		(SELECT char(19968 + id, 19968 + id, 19968 + id) FROM journal_tags WHERE dim = 'decision' AND value = new.decision),
		(SELECT char(19968 + id, 19968 + id, 19968 + id) FROM journal_tags WHERE dim = 'service' AND value = new.service_code)
	);
	UPDATE journal_counts SET n = n - 1
		WHERE service_code = old.service_code AND status = old.status AND decision = old.decision;
	UPDATE journal_provider_counts SET n = n - 1
		WHERE provider_id = old.provider_id AND service_code = old.service_code AND status = old.status AND decision = old.decision;
	INSERT INTO journal_counts (service_code, status, decision, n) VALUES (new.service_code, new.status, new.decision, 1)
		ON CONFLICT DO UPDATE SET n = n + 1;
	INSERT INTO journal_provider_counts (provider_id, service_code, status, decision, n)
		VALUES (new.provider_id, new.service_code, new.status, new.decision, 1)
		ON CONFLICT DO UPDATE SET n = n + 1;
END;
