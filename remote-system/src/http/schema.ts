import {
  Kind,
  Type,
  TypeRegistry,
  type Static,
  type TSchema,
  type TUnsafe
} from '@sinclair/typebox';
import type { FastifyTypeProvider } from 'fastify';

/**
 * TypeBox (`@sinclair/typebox`) is how every request and response shape of the remote system is written: one
 * definition is at once the JSON Schema Fastify validates requests and serialises replies with, the TypeScript type
 * of the handler's `request.params`/`query`/`body` and reply (`Static<typeof X>`), and, through `@fastify/swagger`,
 * the OpenAPI document (`/openapi.json`, `/<pattern>/openapi.json`, the External Service registrations).
 *
 * Why TypeBox: its schemas are plain JSON Schema objects (no conversion step, so what Ajv validates is exactly what
 * the OpenAPI document shows), its types follow from the schema, and Fastify supports it first-hand.
 *
 * Keep to the subset OpenAPI 3.0 and Salesforce External Services accept: no `Type.Literal`/`Type.Union` of
 * literals (they render as `const`/`anyOf`; use {@link StringEnum}), no `Type.Null` unions (`type` arrays).
 */

/**
 * Type provider for `@sinclair/typebox` 0.34 schemas: `app.withTypeProvider<TypeBoxProvider>()` types a handler's
 * request and reply from its route schema. `@fastify/type-provider-typebox` 6 targets the successor package
 * (`typebox` 1.x) and reads `Type.Unsafe` (hence {@link ref} and {@link StringEnum}) as `unknown`, so the project
 * declares the provider for the TypeBox version it uses; it is the same four lines that package shipped for 0.34.
 */
export interface TypeBoxProvider extends FastifyTypeProvider {
  validator: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
  serializer: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
}

/**
 * A reference to a named schema (one with `$id`, registered with `app.addSchema`), typed as that schema. In the
 * OpenAPI document it becomes `#/components/schemas/<$id>`; in a response map, `description` is the response's
 * description.
 */
export function ref<T extends TSchema>(schema: T, description?: string): TUnsafe<Static<T>> {
  if (typeof schema.$id !== 'string') {
    throw new Error('ref() needs a schema with an $id (register it with app.addSchema)');
  }
  return Type.Unsafe<Static<T>>({
    $ref: schema.$id,
    ...(description === undefined ? {} : { description })
  });
}

/** TypeBox kind of {@link StringEnum}, registered so TypeBox's `Value.Check`/`Value.Errors` can check it too. */
const STRING_ENUM_KIND = 'StringEnum';
if (!TypeRegistry.Has(STRING_ENUM_KIND)) {
  TypeRegistry.Set<{ enum: readonly string[] }>(
    STRING_ENUM_KIND,
    (schema, value) => typeof value === 'string' && schema.enum.includes(value)
  );
}

/**
 * A string from a fixed list, as `{ type: 'string', enum: [...] }` (OpenAPI 3.0 has no `const`, which
 * `Type.Union` of `Type.Literal`s renders). Ajv, `@fastify/swagger` and TypeBox's `Value` module all understand it.
 */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { description?: string } = {}
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({
    [Kind]: STRING_ENUM_KIND,
    type: 'string',
    enum: [...values],
    ...options
  });
}
