-- The monitoring report (main/monitoring/report.ts) at a million rows:
--  - monitoring_counts: applications per submission day (days of UTC+5,
--    Kazakhstan time: (submitted_at + 5 h) / 1 day), provider, region,
--    service, status and decision, kept by triggers; a year's report sums a
--    few tens of thousands of rows instead of reading every application;
--  - applications_monitoring_due_idx: open applications by deadline with the
--    step, region and provider inside, for the overdue counts per step.
-- Everything here is derived from `applications`: running it again gives the same.
CREATE TABLE IF NOT EXISTS `monitoring_counts` (
	`day` integer NOT NULL,
	`provider_id` text NOT NULL,
	`region_kato` text NOT NULL,
	`service_code` text NOT NULL,
	`status` text NOT NULL,
	`decision` text NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY (`day`, `provider_id`, `region_kato`, `service_code`, `status`, `decision`)
) WITHOUT ROWID;
--> statement-breakpoint
DELETE FROM monitoring_counts;
--> statement-breakpoint
INSERT INTO monitoring_counts (day, provider_id, region_kato, service_code, status, decision, n)
	SELECT (submitted_at + 18000000) / 86400000, provider_id, region_kato, service_code, status, decision, count(*)
	FROM applications GROUP BY 1, 2, 3, 4, 5, 6;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `applications_monitoring_ai`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `applications_monitoring_ad`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `applications_monitoring_au`;
--> statement-breakpoint
CREATE TRIGGER `applications_monitoring_ai` AFTER INSERT ON `applications`
BEGIN
	INSERT INTO monitoring_counts (day, provider_id, region_kato, service_code, status, decision, n)
		VALUES ((new.submitted_at + 18000000) / 86400000, new.provider_id, new.region_kato, new.service_code, new.status, new.decision, 1)
		ON CONFLICT DO UPDATE SET n = n + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `applications_monitoring_ad` AFTER DELETE ON `applications`
BEGIN
	UPDATE monitoring_counts SET n = n - 1
		WHERE day = (old.submitted_at + 18000000) / 86400000 AND provider_id = old.provider_id AND region_kato = old.region_kato
			AND service_code = old.service_code AND status = old.status AND decision = old.decision;
END;
--> statement-breakpoint
CREATE TRIGGER `applications_monitoring_au` AFTER UPDATE OF `submitted_at`, `provider_id`, `region_kato`, `service_code`, `status`, `decision` ON `applications`
BEGIN
	UPDATE monitoring_counts SET n = n - 1
		WHERE day = (old.submitted_at + 18000000) / 86400000 AND provider_id = old.provider_id AND region_kato = old.region_kato
			AND service_code = old.service_code AND status = old.status AND decision = old.decision;
	INSERT INTO monitoring_counts (day, provider_id, region_kato, service_code, status, decision, n)
		VALUES ((new.submitted_at + 18000000) / 86400000, new.provider_id, new.region_kato, new.service_code, new.status, new.decision, 1)
		ON CONFLICT DO UPDATE SET n = n + 1;
END;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS `applications_monitoring_due_idx` ON `applications` (`due_at`,`submitted_at`,`service_code`,`current_step`,`provider_id`,`region_kato`) WHERE `status` NOT IN ('completed', 'completed_with_error');
