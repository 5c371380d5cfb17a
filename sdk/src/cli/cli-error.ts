/**
 * Failures of the author CLI. They carry a stable code (SDK_ERR_*) and a
 * message that says what to do; main() prints them as one line and exits 1.
 */
export const SDK_CLI_ERRORS = {
  SDK_ERR_TARGET_EXISTS: 'The target folder already exists; choose another id or --dir',
  SDK_ERR_MANIFEST_INVALID: 'plugin.json is invalid; fix the fields listed',
  SDK_ERR_TYPECHECK_FAILED: 'The plugin does not typecheck; fix the errors listed',
  SDK_ERR_MAIN_INVALID: 'The main module does not default-export definePlugin({...})',
  SDK_ERR_KEY_INVALID: 'The private key is not an ed25519 PKCS#8 PEM key; create one with switchboard-plugin keygen',
  SDK_ERR_TARBALL_INVALID: 'The file is not a plugin tarball made by switchboard-plugin pack',
  SDK_ERR_REGISTRY_INVALID: 'The registry file is not a valid plugin-registry.json; fix it before publishing',
  SDK_ERR_VERSION_EXISTS: 'This version is already published; published versions are never overwritten, bump the version',
  SDK_ERR_SIGNATURE_MISMATCH: 'The signature file does not belong to this tarball; sign the tarball again',
} as const;

export type SdkCliCode = keyof typeof SDK_CLI_ERRORS;

/** A CLI failure with a stable code. */
export class SdkCliError extends Error {
  readonly code: SdkCliCode;
  readonly details?: unknown;

  constructor(code: SdkCliCode, detail?: string, details?: unknown) {
    super(detail ? `${SDK_CLI_ERRORS[code]}: ${detail}` : SDK_CLI_ERRORS[code]);
    this.name = 'SdkCliError';
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}
