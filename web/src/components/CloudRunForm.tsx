// Starting a cloud run from the page, as a cloud flow would: on one of my
// machines, with optional inputs, once the badge says the flow is
// cloud-startable. The cloud-run processor checks everything again; the run
// shows in the Runs section, Queued, then as it goes.
import { Button, Field, Select, Text, Textarea } from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { api, ask, type Run } from '../api/client';
import { myMachines } from '../pages/MachinesPage';
import { PageLink } from '../router';
import { useAction, useLoad } from '../useAsync';
import { ProblemMessage } from './ProblemMessage';
import { Actions } from './layout';

export function CloudRunForm(props: { flowId: string; ready: boolean; onStarted: (run: Run) => void }) {
  const machines = useLoad(myMachines, []);
  const [choice, setChoice] = useState('');
  const [inputs, setInputs] = useState('');
  const [inputsError, setInputsError] = useState<string | undefined>();
  const [requested, setRequested] = useState<string | undefined>();
  const action = useAction();
  const options = machines.data ?? [];
  const machine = options.find((m) => m.id === (choice || options[0]?.id));

  const start = async (event: FormEvent) => {
    event.preventDefault();
    let parsed: Record<string, unknown> | undefined;
    if (inputs.trim()) {
      const value = jsonOrUndefined(inputs);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        setInputsError('The inputs must be a JSON object, such as {"invoice": 42}.');
        return;
      }
      parsed = value as Record<string, unknown>;
    }
    setInputsError(undefined);
    setRequested(undefined);
    await action.run(async () => {
      if (!machine) return;
      const run = await ask(
        api.POST('/flows/{flowId}/cloud-runs', {
          params: { path: { flowId: props.flowId } },
          body: { machineId: machine.id, ...(parsed !== undefined ? { inputs: parsed } : {}) },
        }),
      );
      setRequested(`A cloud run on ${machine.name} is ${run.status.toLowerCase()}: it shows under Runs.`);
      props.onStarted(run);
    });
  };

  const why = 'cloud-run-why-not';
  const reason = props.ready
    ? undefined
    : 'Fix every reason above first: only a cloud-startable flow can run in the cloud.';
  return (
    <form onSubmit={(e) => void start(e)} aria-labelledby="cloud-run-heading">
      <Text weight="semibold" block id="cloud-run-heading">
        Start a cloud run
      </Text>
      <ProblemMessage error={machines.error} />
      {machines.data && options.length === 0 ? (
        <Text block>
          A cloud run executes on one of your machines: <PageLink href="/machines">register a machine</PageLink> first.
        </Text>
      ) : null}
      {options.length > 0 ? (
        <Actions>
          <Field label="On my machine">
            <Select value={machine?.id ?? ''} onChange={(_, d) => setChoice(d.value)}>
              {options.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.name}
                </option>
              ))}
            </Select>
          </Field>
          <Field
            label="Inputs (JSON, optional)"
            validationState={inputsError ? 'error' : 'none'}
            validationMessage={inputsError}
          >
            <Textarea value={inputs} onChange={(_, d) => setInputs(d.value)} resize="vertical" />
          </Field>
          <Button
            type="submit"
            appearance="primary"
            disabledFocusable={!props.ready || action.busy}
            aria-describedby={reason ? why : undefined}
          >
            Start cloud run
          </Button>
        </Actions>
      ) : null}
      {reason && options.length > 0 ? (
        <Text size={200} id={why} block>
          {reason}
        </Text>
      ) : null}
      <ProblemMessage error={action.error} />
      <div role="status" aria-live="polite">
        {requested ? <Text>{requested}</Text> : null}
      </div>
    </form>
  );
}

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
