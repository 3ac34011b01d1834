/**
 * The signer library's public surface: what code outside signing/ may use. Everything else in signing/ is
 * the library's own and may change shape without notice; signing/public.test.ts refuses an import from
 * outside that goes past this file.
 *
 * Besides this entry, signing/testing/ is public to tests, benchmarks and tools (a test PKI, SoftHSM2
 * tokens, OCSP/TSA responders), never to the app or the server at run time.
 */

// The signer put together, and what the app's services need from it.
export { loadTrust, looksLikeXml, Signer, type SigningConfig, type VerifiedSignature } from './backend.js';
export type {
  CertificateFacts,
  CheckOutcome,
  NcaRole,
  OpenedKey,
  Revocation,
  SignatureFormat,
  SignedDocument,
  SignerBackend,
  SigningKey,
  TokenInfo,
  TokenList,
} from './types.js';
export { isSigningError, SIGNING_ERROR_CODES, SigningError, wipe, type SigningErrorCode } from './errors.js';

// Keys: key files (PKCS#12), keys in memory, PKCS#11 tokens (in a worker thread, or in this thread).
export { inspectKeyFile, openKeyFile, type KeyFileInspection } from './keyfile.js';
export { softwareKey, type SoftwareKeyInput } from './software-key.js';
export { buildPkcs12, type Pkcs12BuildEntry, type Pkcs12BuildOptions } from './pkcs12-builder.js';
export type { Pkcs11Api, TokenSigningKey, TokenSlot } from './pkcs11/api.js';
export { Pkcs11Client, type Pkcs11ClientOptions } from './pkcs11/client.js';
export { InProcessPkcs11 } from './pkcs11/token.js';

// Certificates.
export { certificateDer, CertificateFormatError, parseCertificate } from './certificate.js';

// The formats.
export {
  addTimestampToken,
  cosignCms,
  parseCms,
  signatureValueOf,
  signCms,
  verifyCmsSignatures,
  type CmsSignerCheck,
  type ParsedCms,
} from './cms.js';
export { signXml, verifyXml, type XmlVerification, type XmlVerifyOptions, type XmlWarning } from './xmldsig.js';

// Trust: the checker and CRLs (the server keeps its own CRL table and checks logins with them).
export {
  CertificateChecker,
  CrlStore,
  isNewer,
  parseCrl,
  subjectIdentity,
  verifyCrl,
  verifyTimestampToken,
  type CertInput,
  type CheckResult,
  type ParsedCrl,
  type TimestampVerification,
} from './trust/index.js';

// The command line (scripts/cli.ts runs it).
export { runCli, type CliIo } from './cli.js';
