CREATE TABLE `signatures` (
	`id` text PRIMARY KEY NOT NULL,
	`application_id` text NOT NULL,
	`format` text NOT NULL,
	`signed` blob NOT NULL,
	`document_sha256` text NOT NULL,
	`signer_iin` text,
	`signer_bin` text,
	`signer_name` text NOT NULL,
	`certificate_sha256` text NOT NULL,
	`key_source` text NOT NULL,
	`user_id` text,
	`signed_at` integer NOT NULL,
	`timestamped_at` integer,
	FOREIGN KEY (`application_id`) REFERENCES `applications`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `signatures_application_idx` ON `signatures` (`application_id`,`signed_at`);