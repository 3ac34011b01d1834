/**
 * Trust in certificates: chains to the national CA's roots, validity, key
 * usage, identity, revocation (CRL cache, OCSP) and time-stamps. The rest of
 * the signer uses CertificateChecker; the parts are exported for the
 * verifier's own needs (a CRL or an OCSP answer carried in a signature, a
 * time-stamp token to read or request).
 */
export {
  buildChain,
  checkChainValidity,
  checkIdentity,
  checkKeyUsage,
  checkValidity,
  subjectIdentity,
  type KeyAct,
  type TrustMaterial,
} from './chain.js';
export {
  CertificateChecker,
  type CheckerConfig,
  type CheckOptions,
  type CheckResult,
  type RevocationOutcome,
  type Warning,
} from './checker.js';
export {
  CrlStore,
  isNewer,
  parseCrl,
  verifyCrl,
  type CrlFetch,
  type CrlStatus,
  type CrlStoreOptions,
  type CrlUpdate,
  type ParsedCrl,
  type RevocationReason,
} from './crl.js';
export {
  buildOcspRequest,
  checkOcsp,
  evaluateOcspAnswer,
  findResponse,
  parseOcspResponse,
  verifyOcspResponse,
  type OcspCheckOptions,
  type OcspProblem,
  type OcspResult,
  type ParsedOcspResponse,
} from './ocsp.js';
export {
  buildTimestampRequest,
  parseTimestampResponse,
  parseTimestampToken,
  requestTimestamp,
  verifyTimestampToken,
  type TimestampInfo,
  type TimestampResult,
  type TimestampVerification,
  type TspProblem,
} from './tsp.js';
export type { CertInput } from './x509.js';
