// A preview of what a person is asked at a console run: per reference, the
// connections they may pick (lent by its owner, or their own) and the default.
import {
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
} from '@fluentui/react-components';
import { api, ask } from '../api/client';
import type { FlowSectionProps } from '../pages/FlowPage';
import { useLoad } from '../useAsync';
import { ProblemMessage } from './ProblemMessage';
import { Section } from './layout';

export function RunPromptSection({ flow, version }: FlowSectionProps) {
  const flowId = flow.id;
  const prompt = useLoad(
    () => ask(api.GET('/flows/{flowId}/run-prompt', { params: { path: { flowId } } })),
    [flowId, version],
  );
  const connectors = useLoad(() => ask(api.GET('/connectors')), []);
  const connectorName = (id: string) => connectors.data?.value.find((c) => c.id === id)?.displayName ?? id;
  return (
    <Section title="Run prompt preview" id="prompt">
      <Text>What you would be asked for if you ran this flow from the console now.</Text>
      <ProblemMessage error={prompt.error} />
      {prompt.loading && !prompt.data ? <Spinner size="tiny" label="Loading the run prompt" /> : null}
      {prompt.data && prompt.data.value.length === 0 ? <Text>The flow needs no connection.</Text> : null}
      {prompt.data && prompt.data.value.length > 0 ? (
        <Table aria-label="Run prompt" size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Reference</TableHeaderCell>
              <TableHeaderCell>Connector</TableHeaderCell>
              <TableHeaderCell>You may pick</TableHeaderCell>
              <TableHeaderCell>Default</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {prompt.data.value.map((entry) => {
              const fallback = entry.candidates.find((c) => c.id === entry.defaultConnectionId);
              return (
                <TableRow key={entry.logicalName}>
                  <TableCell>{entry.logicalName}</TableCell>
                  <TableCell>{connectorName(entry.connectorId)}</TableCell>
                  <TableCell>
                    {entry.candidates.length === 0
                      ? 'no connection: you would have to create one'
                      : entry.candidates
                          .map(
                            (c) => `${c.displayName} (${c.source === 'embedded' ? 'embedded' : 'yours'}, ${c.status})`,
                          )
                          .join('; ')}
                  </TableCell>
                  <TableCell>{fallback ? fallback.displayName : 'none'}</TableCell>
                </TableRow>
              );
            })}
          </TableBody>
        </Table>
      ) : null}
    </Section>
  );
}
