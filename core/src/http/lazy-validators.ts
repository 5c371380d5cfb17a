/**
 * Route schemas compiled on a route's first request instead of at start.
 *
 * fastify compiles the JSON Schema of every route (body, querystring,
 * params) with ajv while the server gets ready: for the core's and the
 * plugins' routes that was the largest single cost of a cold start, almost
 * all of it for routes no one calls in the first seconds. This validator
 * builder hands fastify a small function per route part that compiles with
 * fastify's own compiler (@fastify/ajv-compiler, the same options, the same
 * shared schemas) the first time it runs, then always calls that.
 *
 * Two things fastify does for its own compiler are kept: a validator says
 * it takes ajv's `{ parentData, parentDataProperty }` (so defaults and
 * coercion can replace a root value), and a headers schema gets lower-case
 * property names (fastify only does that for its default compiler).
 */
import { createRequire } from 'node:module';

interface RouteSchemaDefinition {
  schema: unknown;
  method: string;
  url: string;
  httpPart?: string;
  contentType?: string;
}

type Validate = ((data: unknown, context?: unknown) => unknown) & { errors?: unknown; schemaEnv?: unknown };
type CompileRoute = (route: RouteSchemaDefinition) => Validate;
type BuildValidator = (externalSchemas: unknown, ajvOptions: unknown) => CompileRoute;

let defaultBuilder: BuildValidator | undefined;

/** fastify's default validator builder, from fastify's own dependencies (loaded on first use). */
function fastifyDefaultBuilder(): BuildValidator {
  if (!defaultBuilder) {
    const fromHere = createRequire(import.meta.url);
    const fromFastify = createRequire(fromHere.resolve('fastify'));
    const selector = fromFastify('@fastify/ajv-compiler') as () => BuildValidator;
    defaultBuilder = selector();
  }
  return defaultBuilder;
}

/** Header names are case-insensitive; requests carry them lower-cased (as fastify's default compiler assumes). */
function lowerCaseHeaders(schema: unknown): unknown {
  if (!schema || typeof schema !== 'object' || Object.getPrototypeOf(schema) !== Object.prototype) return schema;
  const copy = { ...(schema as Record<string, unknown>) };
  if (copy.properties && typeof copy.properties === 'object') {
    copy.properties = Object.fromEntries(Object.entries(copy.properties as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]));
  }
  if (Array.isArray(copy.required)) copy.required = copy.required.map((k: unknown) => (typeof k === 'string' ? k.toLowerCase() : k));
  return copy;
}

/** For `Fastify({ schemaController: { compilersFactory: { buildValidator } } })`. */
export function lazyValidatorBuilder(externalSchemas: unknown, ajvOptions: unknown): CompileRoute {
  let compileRoute: CompileRoute | undefined;
  return (route) => {
    const definition = route.httpPart === 'headers' ? { ...route, schema: lowerCaseHeaders(route.schema) } : route;
    let real: Validate | undefined;
    const validate: Validate = function (this: unknown, data: unknown, context?: unknown) {
      if (!real) {
        compileRoute ??= fastifyDefaultBuilder()(externalSchemas, ajvOptions);
        real = compileRoute(definition);
      }
      const result = real.schemaEnv ? real.call(this, data, context) : real.call(this, data);
      validate.errors = real.errors;
      return result;
    };
    // fastify passes { parentData, parentDataProperty } only to validators that say they take it (ajv's do).
    validate.schemaEnv = true;
    return validate;
  };
}
