// One run, for anyone who may read its flow (a user of the flow too: the
// run history is the makers', but a run's own page is everyone's on the
// flow). What it did shows to its initiator and the makers alone (the API
// leaves it out for others); Cancel shows to those who may cancel it.
import { Spinner } from '@fluentui/react-components';
import { useEffect } from 'react';
import { api, ask } from '../api/client';
import { ProblemMessage } from '../components/ProblemMessage';
import { Actions, focusPageHeading, PageHeading, Section, when } from '../components/layout';
import { CancelRunButton, ended, RUN_POLL_MS, RunDetails, RunStatusBadge } from '../components/RunDetails';
import { PageLink } from '../router';
import { useLoad } from '../useAsync';
import { myMachines } from './MachinesPage';

export function RunPage({ runId }: { runId: string }) {
  const run = useLoad(() => ask(api.GET('/runs/{runId}', { params: { path: { runId } } })), [runId]);
  const flowId = run.data?.flowId;
  const flow = useLoad(
    () => (flowId ? ask(api.GET('/flows/{flowId}', { params: { path: { flowId } } })) : Promise.resolve(undefined)),
    [flowId],
  );
  const machines = useLoad(myMachines, []);
  const going = run.data !== undefined && !ended(run.data);

  // Until it has ended, as the API's 202 and Retry-After say.
  useEffect(() => {
    if (!going || run.loading) return;
    const timer = setTimeout(run.reload, RUN_POLL_MS);
    return () => clearTimeout(timer);
  }, [going, run.loading, run.reload]);

  const error = run.error ?? flow.error;
  if (error) {
    return (
      <>
        <PageHeading title="Run" />
        <ProblemMessage error={error} />
      </>
    );
  }
  if (!run.data || !flow.data) return <Spinner label="Loading the run" />;
  const label = `run of ${when(run.data.createdAt)}`;
  return (
    <>
      <PageHeading title={`Run of ${flow.data.name}`} badge={<RunStatusBadge run={run.data} />} />
      <p>
        <PageLink href={`/flows/${encodeURIComponent(flow.data.id)}`}>Back to {flow.data.name}</PageLink>
      </p>
      <Section
        title="This run"
        id="run"
        actions={
          <Actions>
            <CancelRunButton
              run={run.data}
              role={flow.data.role}
              label={label}
              onCancelled={() => {
                run.reload();
                // The button goes with the cancel: the focus goes back to the page's heading.
                focusPageHeading();
              }}
            />
          </Actions>
        }
      >
        <RunDetails run={run.data} machines={machines.data} role={flow.data.role} />
      </Section>
    </>
  );
}
