// A flow: its details and definition, whether it can start from a cloud
// flow (and starting a cloud run), its runs, its connection references (and
// trying an action through one), the prompt a console run shows, who it is
// shared with, and its audit trail. What each part offers follows the
// caller's role (lib/domain/roles.ts, the same table the API decides with).
import { Badge, Spinner, Text } from '@fluentui/react-components';
import { useCallback, useState } from 'react';
import { can } from '../../../lib/domain/roles';
import { api, ask, type Flow } from '../api/client';
import { AuditSection } from '../components/AuditSection';
import { ProblemMessage } from '../components/ProblemMessage';
import { PageHeading, ROLE_NAMES, Section, when } from '../components/layout';
import { ReadinessSection } from '../components/ReadinessSection';
import { ReferencesSection } from '../components/ReferencesSection';
import { RunPromptSection } from '../components/RunPromptSection';
import { RunsSection } from '../components/RunsSection';
import { SharingSection } from '../components/SharingSection';
import { useLoad } from '../useAsync';

/** What every section of a flow's page gets: the flow, and a way to say it changed. */
export interface FlowSectionProps {
  flow: Flow;
  /** Bumped after every change, so each section reads again. */
  version: number;
  changed: () => void;
}

export function FlowPage({ flowId }: { flowId: string }) {
  const [version, setVersion] = useState(0);
  const changed = useCallback(() => setVersion((v) => v + 1), []);
  // A run started here: the runs are read again, nothing else.
  const [runsVersion, setRunsVersion] = useState(0);
  const runStarted = useCallback(() => setRunsVersion((v) => v + 1), []);
  const flow = useLoad(() => ask(api.GET('/flows/{flowId}', { params: { path: { flowId } } })), [flowId, version]);

  if (flow.error) {
    return (
      <>
        <PageHeading title="Flow" />
        <ProblemMessage error={flow.error} />
      </>
    );
  }
  if (!flow.data) return <Spinner label="Loading the flow" />;
  const props: FlowSectionProps = { flow: flow.data, version, changed };
  const { role } = flow.data;
  return (
    <>
      <PageHeading
        title={flow.data.name}
        badge={
          <Badge appearance="outline" color="informative">
            {ROLE_NAMES[role]}
          </Badge>
        }
      />
      <DetailsSection flow={flow.data} />
      {can(role, 'checkCloudReadiness') ? <ReadinessSection {...props} onRunStarted={runStarted} /> : null}
      {can(role, 'readRunHistory') ? <RunsSection {...props} runsVersion={runsVersion} /> : null}
      <ReferencesSection {...props} />
      <RunPromptSection {...props} />
      <SharingSection {...props} />
      {can(role, 'readAudit') ? <AuditSection {...props} /> : null}
    </>
  );
}

function DetailsSection({ flow }: { flow: Flow }) {
  return (
    <Section title="Details" id="details">
      <dl className="details">
        <dt>
          <Text weight="semibold">Owner</Text>
        </dt>
        <dd>{flow.ownerId}</dd>
        <dt>
          <Text weight="semibold">Schema version</Text>
        </dt>
        <dd>v{flow.schemaVersion}</dd>
        <dt>
          <Text weight="semibold">Created</Text>
        </dt>
        <dd>{when(flow.createdAt)}</dd>
        <dt>
          <Text weight="semibold">Modified</Text>
        </dt>
        <dd>{when(flow.modifiedAt)}</dd>
      </dl>
      <Text weight="semibold" id="definition-label">
        Definition
      </Text>
      <pre className="definition" aria-labelledby="definition-label" tabIndex={0}>
        {JSON.stringify(flow.definition, null, 2)}
      </pre>
    </Section>
  );
}
