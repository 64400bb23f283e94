// Every problem the API answers, shown in words with its stable `code`.
import { MessageBar, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';
import { ApiProblem } from '../api/client';

export function ProblemMessage({ error }: { error: unknown }) {
  if (!error) return null;
  const problem = error instanceof ApiProblem ? error.problem : undefined;
  const code = error instanceof ApiProblem ? error.code : undefined;
  const title =
    problem?.title ?? (error instanceof ApiProblem ? 'The service could not answer' : 'Something went wrong');
  const detail =
    problem?.detail ??
    (error instanceof ApiProblem
      ? `It answered ${error.status}.`
      : error instanceof Error
        ? error.message
        : String(error));
  // Members some codes add (docs/shapes.md, Problem details); `errors` differs by code.
  const extra = problem as unknown as
    | {
        errors?: { field?: string; detail: string; code?: string; logicalName?: string }[];
        flows?: { flowName: string; logicalName: string }[];
        missing?: { logicalName: string; connectorId: string }[];
      }
    | undefined;
  return (
    <MessageBar intent="error" role="alert" layout="multiline" data-problem-code={code}>
      <MessageBarBody>
        <MessageBarTitle>{title}</MessageBarTitle>
        {detail} {code ? <code>({code})</code> : null}
        {extra?.errors?.length ? (
          <ul>
            {extra.errors.map((e, i) => (
              <li key={i}>
                {e.field ?? e.logicalName ?? e.code}: {e.detail}
              </li>
            ))}
          </ul>
        ) : null}
        {extra?.flows?.length ? (
          <ul>
            {extra.flows.map((f, i) => (
              <li key={i}>
                embedded in {f.flowName} as {f.logicalName}
              </li>
            ))}
          </ul>
        ) : null}
        {extra?.missing?.length ? (
          <ul>
            {extra.missing.map((m, i) => (
              <li key={i}>
                {m.logicalName} needs a {m.connectorId} connection
              </li>
            ))}
          </ul>
        ) : null}
      </MessageBarBody>
    </MessageBar>
  );
}
