-- User keys the server gives at online logins (core/auth/change-key.ts): a
-- change is pushed with a MAC under its author's key. Secrets sealed by the
-- SecretBox of main/sync/credentials.ts (main/sync/user-keys.ts), never in clear.
CREATE TABLE `sync_user_keys` (
	`key_id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`device_id` text NOT NULL,
	`secret` blob NOT NULL,
	`issued_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sync_user_keys_user_idx` ON `sync_user_keys` (`user_id`,`issued_at`);--> statement-breakpoint
-- Signatures queued before changes carried their author named no signer: the
-- signature's own row says who signed, so the change can go under their key.
UPDATE `outbox` SET `payload` = json_set(`payload`, '$.userId', (SELECT `user_id` FROM `signatures` WHERE `id` = `outbox`.`entity_id`))
 WHERE `op` = 'signature.add' AND `state` = 'pending' AND json_valid(`payload`)
   AND json_extract(`payload`, '$.userId') IS NULL
   AND (SELECT `user_id` FROM `signatures` WHERE `id` = `outbox`.`entity_id`) IS NOT NULL;
