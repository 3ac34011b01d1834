CREATE TABLE `application_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
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
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL,
	FOREIGN KEY (`application_id`) REFERENCES `applications`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `application_events_seq_uq` ON `application_events` (`application_id`,`seq`);--> statement-breakpoint
CREATE TABLE `applications` (
	`id` text PRIMARY KEY NOT NULL,
	`number` text NOT NULL,
	`portal_number` text,
	`provider_id` text NOT NULL,
	`service_code` text NOT NULL,
	`channel` text NOT NULL,
	`applicant_iin` text NOT NULL,
	`applicant_bin` text,
	`applicant_name` text NOT NULL,
	`applicant_name_norm` text NOT NULL,
	`region_kato` text NOT NULL,
	`locality` text NOT NULL,
	`status` text NOT NULL,
	`decision` text DEFAULT 'none' NOT NULL,
	`responsible_user_id` text,
	`current_step` text,
	`submitted_at` integer NOT NULL,
	`status_changed_at` integer NOT NULL,
	`due_at` integer,
	`form_data` text NOT NULL,
	`refusal_reason_code` text,
	`refusal_text` text,
	`rework_comment` text,
	`version` integer DEFAULT 1 NOT NULL,
	`server_version` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`provider_id`) REFERENCES `providers`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`responsible_user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `applications_number_uq` ON `applications` (`provider_id`,`number`);--> statement-breakpoint
CREATE INDEX `applications_submitted_idx` ON `applications` (`submitted_at`);--> statement-breakpoint
CREATE INDEX `applications_provider_submitted_idx` ON `applications` (`provider_id`,`submitted_at`);--> statement-breakpoint
CREATE INDEX `applications_status_submitted_idx` ON `applications` (`status`,`submitted_at`);--> statement-breakpoint
CREATE INDEX `applications_iin_idx` ON `applications` (`applicant_iin`);--> statement-breakpoint
CREATE INDEX `applications_number_idx` ON `applications` (`number`);--> statement-breakpoint
CREATE INDEX `applications_portal_idx` ON `applications` (`portal_number`);--> statement-breakpoint
CREATE INDEX `applications_responsible_idx` ON `applications` (`responsible_user_id`,`status`);--> statement-breakpoint
CREATE INDEX `applications_service_idx` ON `applications` (`service_code`,`submitted_at`);--> statement-breakpoint
CREATE TABLE `attachments` (
	`id` text PRIMARY KEY NOT NULL,
	`application_id` text NOT NULL,
	`document_code` text,
	`file_name` text NOT NULL,
	`mime` text NOT NULL,
	`size` integer NOT NULL,
	`sha256` text NOT NULL,
	`created_at` integer NOT NULL,
	`uploaded_at` integer,
	FOREIGN KEY (`application_id`) REFERENCES `applications`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `attachments_application_idx` ON `attachments` (`application_id`);--> statement-breakpoint
CREATE TABLE `outbox` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`op` text NOT NULL,
	`entity` text NOT NULL,
	`entity_id` text NOT NULL,
	`payload` text NOT NULL,
	`protocol_version` integer NOT NULL,
	`schema_version` integer NOT NULL,
	`signature` text,
	`state` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`created_at` integer NOT NULL,
	`sent_at` integer,
	`server_version` integer
);
--> statement-breakpoint
CREATE INDEX `outbox_state_seq_idx` ON `outbox` (`state`,`seq`);--> statement-breakpoint
CREATE TABLE `provider_staff` (
	`provider_id` text NOT NULL,
	`user_id` text NOT NULL,
	`position_kk` text NOT NULL,
	`position_ru` text NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	PRIMARY KEY(`provider_id`, `user_id`),
	FOREIGN KEY (`provider_id`) REFERENCES `providers`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `providers` (
	`id` text PRIMARY KEY NOT NULL,
	`bin` text NOT NULL,
	`name_kk` text NOT NULL,
	`name_ru` text NOT NULL,
	`name_en` text NOT NULL,
	`region_kato` text NOT NULL,
	`locality_kk` text NOT NULL,
	`locality_ru` text NOT NULL,
	`locality_en` text NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`region_kato`) REFERENCES `regions`(`kato`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `providers_bin_uq` ON `providers` (`bin`);--> statement-breakpoint
CREATE TABLE `regions` (
	`kato` text PRIMARY KEY NOT NULL,
	`name_kk` text NOT NULL,
	`name_ru` text NOT NULL,
	`name_en` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `services` (
	`code` text PRIMARY KEY NOT NULL,
	`version` integer NOT NULL,
	`name_kk` text NOT NULL,
	`name_ru` text NOT NULL,
	`name_en` text NOT NULL,
	`definition` text NOT NULL,
	`source_file` text NOT NULL,
	`loaded_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sync_state` (
	`partition` text PRIMARY KEY NOT NULL,
	`cursor` text,
	`last_pull_at` integer,
	`last_push_at` integer,
	`last_error` text,
	`last_error_at` integer,
	`clock_skew_ms` integer
);
--> statement-breakpoint
CREATE TABLE `user_roles` (
	`user_id` text NOT NULL,
	`role` text NOT NULL,
	`provider_id` text DEFAULT '' NOT NULL,
	PRIMARY KEY(`user_id`, `role`, `provider_id`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`login` text NOT NULL,
	`full_name` text NOT NULL,
	`iin` text NOT NULL,
	`email` text,
	`phone` text,
	`position_kk` text,
	`position_ru` text,
	`password_hash` text,
	`must_change_password` integer DEFAULT false NOT NULL,
	`blocked` integer DEFAULT false NOT NULL,
	`last_online_login_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_login_uq` ON `users` (`login`);--> statement-breakpoint
CREATE INDEX `users_iin_idx` ON `users` (`iin`);