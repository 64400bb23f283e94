// A run's inputs against the definition's declared inputs (docs/definitions.md,
// Inputs): defaults filled in, required ones present, each of its type.
import { isObject, isOfType, type InputSpec, type InputType } from '../../lib/domain/definitions';

/** The inputs do not fit the definition: the run fails before its first action. */
export class InputInvalid extends Error {
  constructor(
    message: string,
    readonly code: 'InputInvalid' | 'DefinitionInvalid' = 'InputInvalid',
  ) {
    super(message);
  }
}

/** The inputs an expression sees: as given, with the declared defaults. */
export function resolveInputs(specs: Record<string, InputSpec> | undefined, given: unknown): Record<string, unknown> {
  if (given !== undefined && !isObject(given)) throw new InputInvalid('The run’s inputs must be a JSON object.');
  const inputs: Record<string, unknown> = Object.fromEntries(Object.entries(given ?? {}));
  if (!specs) return inputs;
  const problems: string[] = [];
  for (const name of Object.keys(inputs)) {
    if (!Object.hasOwn(specs, name)) problems.push(`"${name}" is not one of the definition’s inputs`);
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (!Object.hasOwn(inputs, name) && spec.default !== undefined) {
      Object.defineProperty(inputs, name, {
        value: spec.default,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    if (!Object.hasOwn(inputs, name)) {
      if (spec.required) problems.push(`"${name}" is required`);
    } else if (spec.type && !isOfType(inputs[name], spec.type)) {
      problems.push(`"${name}" must be of type ${spec.type}`);
    }
  }
  if (problems.length > 0) throw new InputInvalid(`The run’s inputs do not fit the flow: ${problems.join('; ')}.`);
  return inputs;
}

/**
 * An input given on the command line (`--input name=value`), read as its
 * declared type: numbers and booleans as written, objects and lists as JSON,
 * anything else as text.
 */
export function inputFromText(name: string, text: string, type: InputType | undefined): unknown {
  const fail = () => new InputInvalid(`--input ${name}: "${text}" is not ${type === 'integer' ? 'an' : 'a'} ${type}.`);
  switch (type) {
    case 'number':
    case 'integer': {
      const value = text.trim() === '' ? NaN : Number(text);
      if (!isOfType(value, type)) throw fail();
      return value;
    }
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw fail();
      return text === 'true';
    case 'object':
    case 'array': {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw fail();
      }
      if (!isOfType(value, type)) throw fail();
      return value;
    }
    default:
      return text;
  }
}
