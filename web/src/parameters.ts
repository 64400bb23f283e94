// A call's `parameters` made from what a person typed into a form generated
// from a connector operation's parameter list: each value sent as its
// declared type, empty fields left out. The API checks them against the same
// list and names every field it refuses; what cannot even be sent as its
// type (text in a number, JSON that does not parse) is said here first.
import type { components } from './api/schema';

type OperationParameter = components['schemas']['Connector']['operations'][number]['parameters'][number];

/** What each field holds as typed: text (a number's or JSON's too), or a choice. */
export type RawValues = Record<string, string>;

/** An empty field: the parameter is left out of the call. */
export const NOT_SET = '';

/** The call's parameters, or the fields that cannot be sent as they are. */
export function parametersOf(
  parameters: OperationParameter[],
  raw: RawValues,
): { parameters: Record<string, unknown> } | { errors: Record<string, string> } {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const parameter of parameters) {
    const text = raw[parameter.name] ?? NOT_SET;
    if (text === NOT_SET) continue;
    switch (parameter.type) {
      case 'integer':
      case 'number': {
        const n = Number(text);
        if (text.trim() === '' || Number.isNaN(n)) errors[parameter.name] = `${parameter.name} must be a number.`;
        else values[parameter.name] = n;
        break;
      }
      case 'boolean':
        values[parameter.name] = text === 'true';
        break;
      case 'object':
      case 'array': {
        try {
          values[parameter.name] = JSON.parse(text) as unknown;
        } catch {
          errors[parameter.name] =
            `${parameter.name} must be JSON (${parameter.type === 'array' ? '[...]' : '{...}'}).`;
        }
        break;
      }
      default:
        values[parameter.name] = text;
    }
  }
  return Object.keys(errors).length > 0 ? { errors } : { parameters: values };
}
