import Ajv from 'ajv';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ErrorBodySchema, StringEnum, errorResponses, ref } from '../../src/http';

describe('TypeBox helpers (src/http/schema.ts)', () => {
  const Status = StringEnum(['ACCEPTED', 'QUEUED'], { description: 'Where the order is.' });

  it('StringEnum renders the OpenAPI 3.0 form, with no const', () => {
    expect(JSON.parse(JSON.stringify(Status))).toEqual({
      type: 'string',
      enum: ['ACCEPTED', 'QUEUED'],
      description: 'Where the order is.'
    });
  });

  it('StringEnum is checked alike by Ajv (Fastify) and by TypeBox Value', () => {
    const shape = Type.Object({ status: Status });
    const validate = new Ajv({ strict: false }).compile(
      JSON.parse(JSON.stringify(shape)) as object
    );
    for (const [value, valid] of [
      [{ status: 'QUEUED' }, true],
      [{ status: 'queued' }, false],
      [{ status: 3 }, false]
    ] as const) {
      expect(validate(value)).toBe(valid);
      expect(Value.Check(shape, value)).toBe(valid);
    }
  });

  it('ref points at a named schema and carries the response description', () => {
    expect(JSON.parse(JSON.stringify(ref(ErrorBodySchema, 'Nope.')))).toEqual({
      $ref: 'Error',
      description: 'Nope.'
    });
    expect(() => ref(Type.Object({}))).toThrow(/\$id/);
  });

  it('errorResponses uses the route description, else the default one', () => {
    const responses = JSON.parse(
      JSON.stringify(errorResponses({ 400: undefined, 404: 'No such order.' }))
    );
    expect(responses).toEqual({
      400: {
        $ref: 'Error',
        description: 'The request is invalid; `error.fields` says which field and why.'
      },
      404: { $ref: 'Error', description: 'No such order.' }
    });
  });
});
