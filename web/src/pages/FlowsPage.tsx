// Flows: mine and those shared with me, each with my role; create one; delete
// one I own.
import {
  Button,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogTitle,
  Field,
  Input,
  Select,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Textarea,
} from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { allPages, api, ask, type Flow } from '../api/client';
import { ProblemMessage } from '../components/ProblemMessage';
import { Actions, PageHeading, ROLE_NAMES, Section, when } from '../components/layout';
import { navigate, PageLink } from '../router';
import { useAction, useLoad } from '../useAsync';
import { AppDialog } from '../components/AppDialog';

/** A person's flows fit a few pages; the console shows them all. */
function allFlows(): Promise<Flow[]> {
  return allPages((continuationToken) =>
    ask(api.GET('/flows', { params: { query: { top: 100, continuationToken } } })),
  );
}

export function FlowsPage() {
  const flows = useLoad(allFlows, []);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Flow | undefined>();
  const mine = flows.data?.filter((f) => f.role === 'owner') ?? [];
  const shared = flows.data?.filter((f) => f.role !== 'owner') ?? [];

  return (
    <>
      <PageHeading title="Flows">
        <Button appearance="primary" onClick={() => setCreating(true)}>
          New flow
        </Button>
      </PageHeading>
      <ProblemMessage error={flows.error} />
      {flows.loading && !flows.data ? <Spinner label="Loading flows" /> : null}
      {flows.data ? (
        <>
          <Section title="My flows" id="mine">
            <FlowTable flows={mine} empty="You own no flows yet." onDelete={setDeleting} />
          </Section>
          <Section title="Shared with me" id="shared">
            <FlowTable flows={shared} empty="Nobody has shared a flow with you yet." onDelete={setDeleting} />
          </Section>
        </>
      ) : null}
      {creating ? <CreateFlowDialog onClose={() => setCreating(false)} /> : null}
      {deleting ? (
        <DeleteFlowDialog
          flow={deleting}
          onClose={(deleted) => {
            setDeleting(undefined);
            if (deleted) flows.reload();
          }}
        />
      ) : null}
    </>
  );
}

function FlowTable(props: { flows: Flow[]; empty: string; onDelete: (flow: Flow) => void }) {
  if (props.flows.length === 0) return <Text>{props.empty}</Text>;
  return (
    <Table aria-label="Flows" size="small">
      <TableHeader>
        <TableRow>
          <TableHeaderCell>Name</TableHeaderCell>
          <TableHeaderCell>My role</TableHeaderCell>
          <TableHeaderCell>Owner</TableHeaderCell>
          <TableHeaderCell>Schema</TableHeaderCell>
          <TableHeaderCell>Modified</TableHeaderCell>
          <TableHeaderCell>
            <span className="visually-hidden">Actions</span>
          </TableHeaderCell>
        </TableRow>
      </TableHeader>
      <TableBody>
        {props.flows.map((flow) => (
          <TableRow key={flow.id}>
            <TableCell>
              <PageLink href={`/flows/${encodeURIComponent(flow.id)}`}>{flow.name}</PageLink>
            </TableCell>
            <TableCell>{ROLE_NAMES[flow.role]}</TableCell>
            <TableCell>{flow.ownerId}</TableCell>
            <TableCell>v{flow.schemaVersion}</TableCell>
            <TableCell>{when(flow.modifiedAt)}</TableCell>
            <TableCell>
              {flow.role === 'owner' ? (
                <Button size="small" onClick={() => props.onDelete(flow)} aria-label={`Delete ${flow.name}`}>
                  Delete
                </Button>
              ) : null}
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

const SAMPLE_DEFINITION = JSON.stringify(
  { actions: [{ type: 'connector', connectionReference: 'db', operation: 'ExecuteQuery' }] },
  null,
  2,
);

function CreateFlowDialog({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [schemaVersion, setSchemaVersion] = useState<'1' | '2'>('2');
  const [definition, setDefinition] = useState(SAMPLE_DEFINITION);
  const [definitionError, setDefinitionError] = useState<string | undefined>();
  const action = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(definition);
      setDefinitionError(undefined);
    } catch {
      setDefinitionError('The definition is not JSON.');
      return;
    }
    await action.run(async () => {
      const flow = await ask(
        api.POST('/flows', {
          body: {
            name,
            schemaVersion: Number(schemaVersion) as 1 | 2,
            definition: parsed as { actions: { type: string }[] },
          },
        }),
      );
      onClose();
      navigate(`/flows/${encodeURIComponent(flow.id)}`);
    });
  };

  return (
    <AppDialog onClose={() => onClose()}>
      <form onSubmit={(e) => void submit(e)}>
        <DialogBody>
          <DialogTitle>New flow</DialogTitle>
          <DialogContent>
            <Field label="Name" required>
              <Input value={name} onChange={(_, d) => setName(d.value)} />
            </Field>
            <Field label="Schema version" hint="Cloud runs need schema v2.">
              <Select value={schemaVersion} onChange={(_, d) => setSchemaVersion(d.value as '1' | '2')}>
                <option value="2">2</option>
                <option value="1">1</option>
              </Select>
            </Field>
            <Field
              label="Definition (JSON)"
              hint="Connector actions name the connection references the flow needs."
              validationMessage={definitionError}
            >
              <Textarea
                value={definition}
                onChange={(_, d) => setDefinition(d.value)}
                rows={8}
                textarea={{ style: { fontFamily: 'monospace' } }}
              />
            </Field>
            <ProblemMessage error={action.error} />
          </DialogContent>
          <DialogActions>
            <Button appearance="secondary" onClick={onClose}>
              Cancel
            </Button>
            <Button appearance="primary" type="submit" disabled={action.busy}>
              Create
            </Button>
          </DialogActions>
        </DialogBody>
      </form>
    </AppDialog>
  );
}

function DeleteFlowDialog({ flow, onClose }: { flow: Flow; onClose: (deleted: boolean) => void }) {
  const action = useAction();
  const remove = () =>
    action.run(async () => {
      await ask(api.DELETE('/flows/{flowId}', { params: { path: { flowId: flow.id } } }));
      onClose(true);
    });
  return (
    <AppDialog onClose={() => onClose(false)}>
      <DialogBody>
        <DialogTitle>Delete {flow.name}?</DialogTitle>
        <DialogContent>
          <Text>
            The flow goes with its sharing, its connection references, its runs and its audit trail. The connections
            behind its references are not deleted.
          </Text>
          <ProblemMessage error={action.error} />
        </DialogContent>
        <DialogActions>
          <Actions>
            <Button onClick={() => onClose(false)}>Cancel</Button>
            <Button appearance="primary" onClick={() => void remove()} disabled={action.busy}>
              Delete
            </Button>
          </Actions>
        </DialogActions>
      </DialogBody>
    </AppDialog>
  );
}
