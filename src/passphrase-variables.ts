/**
 * The environment variables that hold key passphrases (and tokens' PINs):
 * docker's (both front ends read them), notary's for a delegation key (the
 * action reads it), and the CLI's own for a rotation's new key. One list, so every reader names them alike
 * and no outside program (sign-command, pkcs11-tool) is handed one.
 */
export const PASSPHRASE_VARIABLES = {
  /** docker's, for the root key. */
  root: 'DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE',
  /** docker's, for the repository (targets) key and every signer's. */
  repository: 'DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE',
  /** notary's, for a delegation (signer) key. */
  delegation: 'NOTARY_DELEGATION_PASSPHRASE',
  /** The CLI's, for --new-key (rotate root|repository), so it may differ from the current key's. */
  newKey: 'CONTENT_TRUST_NEW_KEY_PASSPHRASE',
} as const;
