// The string formats of plugin.json's schema (manifest-schema.json): the
// standard ones (ajv-formats) and semver versions and ranges. CommonJS, so
// the manifest validator the build compiles ahead
// (core/src/config/precompiled.ts) can require it; manifest.ts adds the same
// semver formats when it compiles the schema itself.
'use strict';
const { fullFormats } = require('ajv-formats/dist/formats');
// The two functions only: the package's index loads all of semver's ~50 files.
const valid = require('semver/functions/valid');
const validRange = require('semver/ranges/valid');

module.exports = {
  ...fullFormats,
  semver: { type: 'string', validate: (s) => valid(s) !== null },
  'semver-range': { type: 'string', validate: (s) => validRange(s) !== null },
};
