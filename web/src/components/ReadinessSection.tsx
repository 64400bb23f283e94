// Whether the flow can be started from a cloud flow, with every reason it
// cannot (GET .../cloud-readiness: the cloud-run processor's own checks), the
// schema upgrade that one of those reasons asks for, and starting a cloud run.
import { Badge, Button, Spinner, Text } from '@fluentui/react-components';
import { can } from '../../../lib/domain/roles';
import { api, ask, type Run } from '../api/client';
import type { FlowSectionProps } from '../pages/FlowPage';
import { useAction, useLoad } from '../useAsync';
import { CloudRunForm } from './CloudRunForm';
import { ProblemMessage } from './ProblemMessage';
import { Section } from './layout';

export function ReadinessSection({
  flow,
  version,
  changed,
  onRunStarted,
}: FlowSectionProps & { onRunStarted: (run: Run) => void }) {
  const flowId = flow.id;
  const readiness = useLoad(
    () => ask(api.GET('/flows/{flowId}/cloud-readiness', { params: { path: { flowId } } })),
    [flowId, version],
  );
  const upgrade = useAction();
  const canUpgrade = flow.schemaVersion === 1 && can(flow.role, 'upgradeSchema');

  return (
    <Section
      title="Cloud runs"
      id="cloud"
      actions={
        readiness.data ? (
          <Badge
            appearance="tint"
            color={readiness.data.ready ? 'success' : 'warning'}
            data-testid="cloud-startable"
            role="status"
          >
            {readiness.data.ready ? 'Cloud-startable' : 'Not cloud-startable'}
          </Badge>
        ) : null
      }
    >
      <ProblemMessage error={readiness.error} />
      {readiness.loading && !readiness.data ? <Spinner size="tiny" label="Checking cloud readiness" /> : null}
      {readiness.data?.ready ? (
        <Text>A cloud flow can start this flow: every reference is embedded and its connection works.</Text>
      ) : null}
      {readiness.data && !readiness.data.ready ? (
        <>
          <Text>A cloud flow cannot start this flow until each of these is fixed:</Text>
          <ul aria-label="Why it is not cloud-startable">
            {readiness.data.errors.map((error, i) => (
              <li key={i}>
                {error.logicalName ? <strong>{error.logicalName}: </strong> : null}
                {error.detail} <code>({error.code})</code>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {canUpgrade ? (
        <div>
          <Button
            onClick={() =>
              void upgrade.run(async () => {
                await ask(api.POST('/flows/{flowId}/upgrade-schema', { params: { path: { flowId } } }));
                changed();
              })
            }
            disabled={upgrade.busy}
          >
            Upgrade schema to v2
          </Button>
        </div>
      ) : null}
      <ProblemMessage error={upgrade.error} />
      {can(flow.role, 'runCloud') && readiness.data ? (
        <CloudRunForm flowId={flowId} ready={readiness.data.ready} onStarted={onRunStarted} />
      ) : null}
    </Section>
  );
}
