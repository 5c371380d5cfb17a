import { Ajv, type Options } from 'ajv';
import formatsModule from 'ajv-formats';

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default
// import is the module object in types but the function at runtime.
const addFormats = formatsModule as unknown as typeof formatsModule.default;

/** An ajv instance with the standard formats (hostname, uri, …), shared setup for every boundary validator. */
export function createAjv(options: Options = {}): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, ...options });
  addFormats(ajv);
  return ajv;
}
