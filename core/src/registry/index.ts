/**
 * What author tooling (sdk's switchboard-plugin) shares with the host:
 * manifest validation, the catalog format, integrity and signatures.
 * Exported as `@switchboard/core/registry`.
 */
export { validateManifest, readManifest, type PluginManifest } from '../plugins/manifest.ts';
export { canonicalJson } from './canonical-json.ts';
export {
  sriSha512, manifestDigest, signingPayload, keyIdOf, generateSigningKeyPair, signFields, verifyFields,
  type SignedFields, type GeneratedKeyPair,
} from './signing.ts';
export { validateCatalog, emptyCatalog, readCatalog, catalogSchema, type Catalog, type CatalogVersion } from './catalog.ts';
export { readTarball, unsafePathReason } from './safe-unpack.ts';
export { CORE_VERSION as HOST_VERSION } from './host-version.ts';
