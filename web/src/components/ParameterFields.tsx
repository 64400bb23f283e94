// A form generated from a connector operation's parameter list (the
// catalog's: name, in, type, required, description, maxLength, enum): a
// choice for an enum or a boolean, a number field for numbers, JSON text for
// objects and arrays, text otherwise. parametersOf (../parameters.ts) makes
// the call's parameters from it.
import { Field, Input, Select, Textarea } from '@fluentui/react-components';
import type { OperationParameter } from '../api/client';
import { NOT_SET, type RawValues } from '../parameters';

function hint(parameter: OperationParameter): string {
  const where = { path: 'in the path', query: 'in the query', body: 'in the body' }[parameter.in];
  const type =
    parameter.type === 'object' ? 'a JSON object' : parameter.type === 'array' ? 'a JSON array' : parameter.type;
  return [parameter.description, `${type}, ${where}`].filter(Boolean).join('; ');
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
