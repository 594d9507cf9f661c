/**
 * otpkit: two-factor authentication done right. RFC 4226 HOTP and RFC 6238 TOTP, base32,
 * verification with replay protection and throttling, recovery codes, behind storage adapters.
 *
 * Everything here is side-effect free and runs unchanged in browsers and Node.
 * @module
 */
export { OtpkitError, type OtpkitErrorCode, type OtpkitMisuseError } from './errors.js';
export {
  encodeBase32,
  decodeBase32,
  type EncodeBase32Options,
  type DecodeBase32Options,
} from './base32.js';
export { generateSecret, type GenerateSecretOptions } from './secret.js';
export { generateHOTP, type HOTPOptions, type OtpOptions, type HashAlgorithm } from './hotp.js';
export { generateTOTP, timeStep, type TOTPOptions, type TimeOptions } from './totp.js';
export {
  verifyTOTP,
  verifyHOTP,
  resyncHOTP,
  normalizeToken,
  MAX_WINDOW,
  MAX_LOOK_AHEAD,
  MAX_RESYNC_LOOK_AHEAD,
  type VerifyTOTPOptions,
  type VerifyTOTPResult,
  type VerifyHOTPOptions,
  type VerifyHOTPResult,
  type ResyncHOTPOptions,
  type VerifyFailureReason,
  type TOTPWindow,
} from './verify.js';
export type {
  OtpStore,
  FactorStore,
  AttemptPolicy,
  ThrottleRecord,
  CredentialRecord,
  RecoveryCodeSet,
  ChallengeRecord,
  ChallengeDevice,
  ChallengeCreated,
  TotpAttempt,
  TotpAttemptOutcome,
  BeginAttempt,
  BeginOutcome,
  Claim,
  SettleAttempt,
  SettleOutcome,
  FactorRecord,
  FactorType,
  OobCode,
  DeviceRecord,
  DeviceRotation,
  SendBucket,
  SendRule,
  PurgeableStore,
  PurgeExpiredOptions,
  PurgeExpiredResult,
} from './store/types.js';
export { createMemoryStore, type MemoryStore } from './store/memory.js';
export { createVerifier, OTP_SCOPE, RECOVERY_SCOPE } from './verifier/verifier.js';
export type {
  Verifier,
  VerifierOptions,
  VerifierEvent,
  VerifierFailure,
  ThrottleFailure,
  SecretSource,
  VerifierFailureReason,
  VerifierTOTPInput,
  VerifierTOTPResult,
  VerifierHOTPInput,
  VerifierHOTPResult,
  RecoveryRedeemInput,
  RecoveryRedeemResult,
  RecoveryIssueInput,
  CredentialRef,
  ThrottleOptions,
  ThrottleStatus,
  ThrottleStatusOptions,
  ThrottleScope,
} from './verifier/types.js';
export {
  sealSecret,
  openSecret,
  type SealSecretOptions,
  type OpenSecretOptions,
  type SealingKey,
} from './envelope.js';
export { buildOtpauthURI, type BuildOtpauthURIOptions } from './uri/build.js';
export { parseOtpauthURI, type ParseOtpauthURIOptions } from './uri/parse.js';
export type { OtpauthParams, OtpauthParamsInput } from './uri/params.js';
export {
  checkAuthenticatorCompatibility,
  AUTHENTICATOR_PROFILES,
  type CompatibilityWarning,
  type CompatibilityWarningCode,
  type AuthenticatorProfile,
} from './compat.js';
export {
  generateRecoveryCodes,
  normalizeRecoveryCode,
  type GenerateRecoveryCodesOptions,
  type NormalizeRecoveryCodeOptions,
} from './recovery/codes.js';
export {
  hashRecoveryCode,
  verifyRecoveryCode,
  recoveryHashNeedsRehash,
  type RecoveryHashOptions,
} from './recovery/hash.js';
export type { RecoveryPepper } from './recovery/pepper.js';
export {
  hashRecoveryCodeSet,
  hashRecoveryCodeSetAsync,
  type StoredRecoveryCode,
} from './recovery/set.js';
export { createTwoFactor, type TwoFactor } from './twofactor/twofactor.js';
export { factorLabelProblem } from './twofactor/label.js';
export { destinationProblem } from './twofactor/oob.js';
export type {
  TwoFactorOptions,
  TwoFactorEvent,
  FactorKeys,
  EnrollmentSettings,
  ChangeAuthorization,
  Factor,
  VerificationMethod,
  VerificationSuccess,
  VerificationFailure,
  VerificationFailureReason,
  VerificationResult,
} from './twofactor/types.js';
export type {
  BeginEnrollmentInput,
  BeginEnrollmentResult,
  BeginDeliveryEnrollmentResult,
  ConfirmEnrollmentInput,
  ConfirmEnrollmentResult,
  GetEnrollmentInput,
  GetEnrollmentResult,
  ImportFactorInput,
  ImportFactorResult,
} from './twofactor/enrollment.js';
export type {
  StartChallengeInput,
  StartChallengeResult,
  VerifyChallengeInput,
  VerifyCodeInput,
} from './twofactor/challenge.js';
export type { TrustDeviceInput, TrustDeviceResult, TrustedDevice } from './twofactor/devices.js';
export type { Delivery, OobChannel, SendCodeInput, SendCodeResult } from './twofactor/oob.js';
export type {
  ChangeInput,
  RemoveFactorInput,
  RenameFactorInput,
  ListFactorsOptions,
  RecoveryCodeStatus,
  ResealOptions,
  StepUpRequired,
} from './twofactor/lifecycle.js';
