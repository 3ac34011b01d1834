-- The applications journal at a million rows (main/journal/journal.ts):
-- covering indexes walked in each sort order, a filter index, a partial index
-- of open applications by deadline, a trigram full-text index over the folded
-- names with one-token tags for status, decision and service, and exact counts
-- per (service, status, decision). Triggers keep the full-text index, the tags
-- and the counts in step with `applications`. Everything here is derived from
-- `applications`: running this file again rebuilds it the same.

-- Walked in the order of the journal's sorts, with every filter column inside
-- so that filters are checked in the index, without reading the table.
CREATE INDEX IF NOT EXISTS `applications_journal_submitted_idx` ON `applications` (`submitted_at`,`status`,`decision`,`service_code`,`due_at`,`applicant_name_norm`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `applications_journal_number_idx` ON `applications` (`number`,`submitted_at`,`status`,`decision`,`service_code`,`due_at`);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `applications_journal_name_idx` ON `applications` (`applicant_name_norm`,`submitted_at`,`status`,`decision`,`service_code`,`due_at`);
--> statement-breakpoint
-- Equal-to filters (any of them, the others as IN lists of every value) and a
-- date range: seeks that meet only matching rows, for counting and collecting.
CREATE INDEX IF NOT EXISTS `applications_journal_filter_idx` ON `applications` (`status`,`decision`,`service_code`,`submitted_at`,`due_at`,`applicant_name_norm`);
--> statement-breakpoint
-- Open applications by deadline: the "overdue" filter.
CREATE INDEX IF NOT EXISTS `applications_journal_due_idx` ON `applications` (`due_at`,`status`,`decision`,`service_code`,`submitted_at`,`applicant_name_norm`) WHERE `status` NOT IN ('completed', 'completed_with_error');
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `applications_bin_idx` ON `applications` (`applicant_bin`) WHERE `applicant_bin` IS NOT NULL;
--> statement-breakpoint

-- Tags: each status, decision and service value seen gets a number; in the
-- full-text index it is one trigram token, char(0x4E00 + id) three times.
CREATE TABLE IF NOT EXISTS `journal_tags` (
	`id` integer PRIMARY KEY,
	`dim` text NOT NULL,
	`value` text NOT NULL,
	UNIQUE (`dim`, `value`)
);
--> statement-breakpoint

-- Exact counts of applications per (service, status, decision).
CREATE TABLE IF NOT EXISTS `journal_counts` (
	`service_code` text NOT NULL,
	`status` text NOT NULL,
	`decision` text NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY (`service_code`, `status`, `decision`)
) WITHOUT ROWID;
--> statement-breakpoint

-- Contentless trigram index (SQLite >= 3.43 for contentless_delete). Its rowid
-- is the application's rowid: a VACUUM that renumbered rowids (SQLite keeps
-- them in practice, but promises it only for INTEGER PRIMARY KEY tables) calls
-- for main/journal/rebuild.ts. `name` is ' ' || folded name || ' ' with
-- hyphens as spaces, so that ' ab' finds a word starting with "ab".
CREATE VIRTUAL TABLE IF NOT EXISTS `applications_search` USING fts5(
	name, st, de, sv,
	content='', contentless_delete=1, tokenize='trigram case_sensitive 1', detail=full
);
--> statement-breakpoint

CREATE TRIGGER IF NOT EXISTS `applications_journal_ai` AFTER INSERT ON `applications`
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
END;
--> statement-breakpoint

CREATE TRIGGER IF NOT EXISTS `applications_journal_ad` AFTER DELETE ON `applications`
BEGIN
	DELETE FROM applications_search WHERE rowid = old.rowid;
	UPDATE journal_counts SET n = n - 1
		WHERE service_code = old.service_code AND status = old.status AND decision = old.decision;
END;
--> statement-breakpoint

CREATE TRIGGER IF NOT EXISTS `applications_journal_au` AFTER UPDATE OF `applicant_name_norm`, `status`, `decision`, `service_code` ON `applications`
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
	INSERT INTO journal_counts (service_code, status, decision, n) VALUES (new.service_code, new.status, new.decision, 1)
		ON CONFLICT DO UPDATE SET n = n + 1;
END;
--> statement-breakpoint

-- What is already there (run again, it gives the same: everything here is derived).
INSERT OR IGNORE INTO journal_tags (dim, value)
	SELECT 'status', status FROM applications GROUP BY status
	UNION ALL SELECT 'decision', decision FROM applications GROUP BY decision
	UNION ALL SELECT 'service', service_code FROM applications GROUP BY service_code;
--> statement-breakpoint
DELETE FROM journal_counts;
--> statement-breakpoint
INSERT INTO journal_counts (service_code, status, decision, n)
	SELECT service_code, status, decision, count(*) FROM applications GROUP BY service_code, status, decision;
--> statement-breakpoint
INSERT INTO applications_search (applications_search) VALUES ('delete-all');
--> statement-breakpoint
INSERT INTO applications_search (rowid, name, st, de, sv)
	SELECT a.rowid, ' ' || replace(a.applicant_name_norm, '-', ' ') || ' ',
		char(19968 + s.id, 19968 + s.id, 19968 + s.id),
		char(19968 + d.id, 19968 + d.id, 19968 + d.id),
		char(19968 + v.id, 19968 + v.id, 19968 + v.id)
	FROM applications a
	JOIN journal_tags s ON s.dim = 'status' AND s.value = a.status
	JOIN journal_tags d ON d.dim = 'decision' AND d.value = a.decision
	JOIN journal_tags v ON v.dim = 'service' AND v.value = a.service_code;
--> statement-breakpoint
INSERT INTO applications_search (applications_search) VALUES ('optimize');
