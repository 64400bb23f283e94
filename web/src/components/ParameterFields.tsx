// A form generated from a connector operation's parameter list (the
// catalog's: name, in, type, required, description, maxLength, enum), and
// the call's `parameters` object made from what was typed. Values are sent
// as their declared type; the API checks them against the same list and
// names every field it refuses (ValidationFailed, `parameters.<name>`).
import { Field, Input, Select, Textarea } from '@fluentui/react-components';
import type { OperationParameter } from '../api/client';

/** What each field holds as typed: text (a number's or JSON's too), or a choice. */
export type RawValues = Record<string, string>;

const NOT_SET = '';

function hint(parameter: OperationParameter): string {
  const where = { path: 'in the path', query: 'in the query', body: 'in the body' }[parameter.in];
  const type =
    parameter.type === 'object' ? 'a JSON object' : parameter.type === 'array' ? 'a JSON array' : parameter.type;
  return [parameter.description, `${type}, ${where}`].filter(Boolean).join('; ');
}

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

export function ParameterFields(props: {
  parameters: OperationParameter[];
  values: RawValues;
  errors: Record<string, string>;
  onChange: (name: string, value: string) => void;
}) {
  return (
    <>
      {props.parameters.map((parameter) => {
        const value = props.values[parameter.name] ?? NOT_SET;
        const set = (v: string) => props.onChange(parameter.name, v);
        const error = props.errors[parameter.name];
        const required = parameter.in === 'path' || parameter.required === true;
        return (
          <Field
            key={parameter.name}
            label={parameter.name}
            required={required}
            hint={hint(parameter)}
            validationState={error ? 'error' : 'none'}
            validationMessage={error}
          >
            {parameter.enum || parameter.type === 'boolean' ? (
              <Select value={value} onChange={(_, d) => set(d.value)}>
                <option value={NOT_SET}>(not set)</option>
                {(parameter.enum ?? ['true', 'false']).map((option) => (
                  <option key={String(option)} value={String(option)}>
                    {String(option)}
                  </option>
                ))}
              </Select>
            ) : parameter.type === 'object' || parameter.type === 'array' ? (
              <Textarea value={value} onChange={(_, d) => set(d.value)} resize="vertical" />
            ) : (
              <Input
                value={value}
                onChange={(_, d) => set(d.value)}
                type={parameter.type === 'string' ? 'text' : 'number'}
                step={parameter.type === 'integer' ? 1 : 'any'}
                maxLength={parameter.maxLength}
              />
            )}
          </Field>
        );
      })}
    </>
  );
}
