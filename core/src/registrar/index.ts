export { Registrar, DEFAULT_REGISTRAR_OPTIONS, type RegistrarOptions, type CredentialSource, type AuthResult } from './registrar.ts';
export { CoreSipPolicy, DEFAULT_CHALLENGE_METHODS, type SitePolicy } from './core-sip-policy.ts';
export { BindingStore, type Binding } from './binding-store.ts';
export { destinationOf, endpointOf, type Endpoint } from './location.ts';
export { ha1, challenges, parseAuthorization, verifyAnswer, type DigestAlgorithm } from './digest.ts';
export { NonceManager } from './nonce-manager.ts';
