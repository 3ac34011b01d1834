/**
 * The rules of the password policy, by name: what core/auth/passwords.ts
 * `checkPasswordPolicy` reports and the contract carries, in its stable
 * order. Kept apart from the hashing (Node's crypto) so the renderer may
 * load it.
 */
export const PASSWORD_RULES = [
  'tooShort',
  'tooLong',
  'noLetter',
  'noDigit',
  'sameAsLogin',
  'sameAsIin',
  'sameAsCurrent',
  'repeatMismatch',
] as const;
export type PasswordRule = (typeof PASSWORD_RULES)[number];
