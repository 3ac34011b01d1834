CREATE TABLE `server_events` (
	`id` text PRIMARY KEY NOT NULL,
	`application_id` text NOT NULL,
	`seq` integer NOT NULL,
	`at` integer NOT NULL,
	`actor_user_id` text,
	`action` text NOT NULL,
	`from_status` text,
	`to_status` text,
	`decision` text,
	`comment` text,
	`payload` text,
	`device_id` text,
	`device_seq` integer,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL,
	`server_version` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `server_events_application_idx` ON `server_events` (`application_id`,`seq`);--> statement-breakpoint
CREATE TABLE `sync_base` (
	`application_id` text PRIMARY KEY NOT NULL,
	`data` text NOT NULL,
	`server_version` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sync_calendars` (
	`year` integer PRIMARY KEY NOT NULL,
	`definition` text NOT NULL,
	`server_version` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sync_crls` (
	`sha256` text PRIMARY KEY NOT NULL,
	`issuer` text NOT NULL,
	`this_update` integer NOT NULL,
	`next_update` integer,
	`size` integer NOT NULL,
	`der` blob,
	`server_version` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sync_deferred` (
	`entity` text NOT NULL,
	`id` text NOT NULL,
	`partition` text NOT NULL,
	`version` integer NOT NULL,
	`op` text NOT NULL,
	`data` text,
	`reason` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`entity`, `id`)
);
--> statement-breakpoint
CREATE TABLE `sync_device` (
	`id` integer PRIMARY KEY NOT NULL,
	`device_id` text NOT NULL,
	`name` text NOT NULL,
	`provider_id` text NOT NULL,
	`partitions` text NOT NULL,
	`secret` blob,
	`epoch` integer NOT NULL,
	`seq_base` integer DEFAULT 0 NOT NULL,
	`enrolled_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE TABLE `sync_errors` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`partition` text NOT NULL,
	`entity` text NOT NULL,
	`entity_id` text NOT NULL,
	`version` integer NOT NULL,
	`error` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sync_errors_entity_idx` ON `sync_errors` (`entity`,`entity_id`);--> statement-breakpoint
ALTER TABLE `outbox` ADD `device_seq` integer;--> statement-breakpoint
ALTER TABLE `outbox` ADD `epoch` integer;--> statement-breakpoint
ALTER TABLE `outbox` ADD `reject_reason` text;--> statement-breakpoint
ALTER TABLE `outbox` ADD `reject_message` text;--> statement-breakpoint
ALTER TABLE `outbox` ADD `rejected_at` integer;--> statement-breakpoint
ALTER TABLE `outbox` ADD `resolved_at` integer;--> statement-breakpoint
ALTER TABLE `outbox` ADD `retried_as` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_device_seq_uq` ON `outbox` (`epoch`,`device_seq`);--> statement-breakpoint
CREATE INDEX `outbox_entity_idx` ON `outbox` (`entity`,`entity_id`,`state`);--> statement-breakpoint
CREATE INDEX `outbox_state_version_idx` ON `outbox` (`state`,`server_version`);--> statement-breakpoint
ALTER TABLE `sync_state` ADD `version` integer;--> statement-breakpoint
ALTER TABLE `sync_state` ADD `snapshot_at` integer;
--> statement-breakpoint
-- The server's state of an application is kept before its first local change
-- that the server has not acknowledged (main/sync/pull.ts puts it back after
-- a rejection). A pull's write always moves server_version, so it never fires.
CREATE TRIGGER `applications_sync_base` BEFORE UPDATE ON `applications`
WHEN OLD.`server_version` IS NOT NULL AND NEW.`server_version` IS OLD.`server_version`
BEGIN
	INSERT OR IGNORE INTO `sync_base` (`application_id`, `data`, `server_version`) VALUES (
		OLD.`id`,
		json_object(
			'status', OLD.`status`, 'decision', OLD.`decision`, 'responsibleUserId', OLD.`responsible_user_id`,
			'currentStep', OLD.`current_step`, 'statusChangedAt', OLD.`status_changed_at`, 'dueAt', OLD.`due_at`,
			'formData', json(OLD.`form_data`), 'refusalReasonCode', OLD.`refusal_reason_code`,
			'refusalText', OLD.`refusal_text`, 'reworkComment', OLD.`rework_comment`
		),
		OLD.`server_version`
	);
END;
