// Who the flow is shared with: add a person as co-owner or user, change a
// role, remove one; the owner's role is fixed. Anyone may leave a flow.
import {
  Button,
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
} from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { can } from '../../../lib/domain/roles';
import { allPages, api, ask, type Permission } from '../api/client';
import type { FlowSectionProps } from '../pages/FlowPage';
import { navigate } from '../router';
import { useSession } from '../session';
import { useAction, useLoad } from '../useAsync';
import { ProblemMessage } from './ProblemMessage';
import { Actions, ROLE_NAMES, Section, when } from './layout';

type SharedRole = 'coOwner' | 'user';

function allPermissions(flowId: string): Promise<Permission[]> {
  return allPages((continuationToken) =>
    ask(
      api.GET('/flows/{flowId}/permissions', { params: { path: { flowId }, query: { top: 100, continuationToken } } }),
    ),
  );
}

export function SharingSection({ flow, version, changed }: FlowSectionProps) {
  const session = useSession();
  const flowId = flow.id;
  const permissions = useLoad(() => allPermissions(flowId), [flowId, version]);
  const [person, setPerson] = useState('');
  const [role, setRole] = useState<SharedRole>('coOwner');
  const action = useAction();
  const mayShare = can(flow.role, 'share');

  const share = (principalId: string, newRole: SharedRole) =>
    action.run(async () => {
      await ask(
        api.PUT('/flows/{flowId}/permissions/{principalId}', {
          params: { path: { flowId, principalId } },
          body: { role: newRole },
        }),
      );
      changed();
    });

  const remove = (principalId: string) =>
    action.run(async () => {
      await ask(api.DELETE('/flows/{flowId}/permissions/{principalId}', { params: { path: { flowId, principalId } } }));
      if (principalId === session.principalId) navigate('/');
      else changed();
    });

  const add = async (event: FormEvent) => {
    event.preventDefault();
    const who = person.trim();
    if (!who) return;
    if (await share(who, role)) setPerson('');
  };

  return (
    <Section title="Sharing" id="sharing">
      <ProblemMessage error={permissions.error} />
      {permissions.loading && !permissions.data ? <Spinner size="tiny" label="Loading who has access" /> : null}
      {permissions.data ? (
        <Table aria-label="People with access" size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Person</TableHeaderCell>
              <TableHeaderCell>Role</TableHeaderCell>
              <TableHeaderCell>Shared by</TableHeaderCell>
              <TableHeaderCell>
                <span className="visually-hidden">Actions</span>
              </TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {permissions.data.map((p) => {
              const self = p.principalId === session.principalId;
              return (
                <TableRow key={p.principalId} data-principal={p.principalId}>
                  <TableCell>{self ? `${p.principalId} (you)` : p.principalId}</TableCell>
                  <TableCell>
                    {p.role === 'owner' || !mayShare ? (
                      ROLE_NAMES[p.role]
                    ) : (
                      <Select
                        aria-label={`Role of ${p.principalId}`}
                        value={p.role}
                        disabled={action.busy}
                        onChange={(_, d) => void share(p.principalId, d.value as SharedRole)}
                      >
                        <option value="coOwner">Co-owner</option>
                        <option value="user">User</option>
                      </Select>
                    )}
                  </TableCell>
                  <TableCell>{p.role === 'owner' ? '' : `${p.grantedBy}, ${when(p.grantedAt)}`}</TableCell>
                  <TableCell>
                    {p.role === 'owner' ? (
                      'The owner cannot be removed'
                    ) : mayShare || self ? (
                      <Button
                        size="small"
                        onClick={() => void remove(p.principalId)}
                        disabled={action.busy}
                        aria-label={self ? 'Leave this flow' : `Remove ${p.principalId}`}
                      >
                        {self ? 'Leave this flow' : 'Remove'}
                      </Button>
                    ) : null}
                  </TableCell>
                </TableRow>
              );
            })}
          </TableBody>
        </Table>
      ) : null}
      {mayShare ? (
        <form onSubmit={(e) => void add(e)} aria-label="Share with a person">
          <Actions>
            <Field label="Person (user id)">
              <Input value={person} onChange={(_, d) => setPerson(d.value)} />
            </Field>
            <Field label="As">
              <Select value={role} onChange={(_, d) => setRole(d.value as SharedRole)}>
                <option value="coOwner">Co-owner</option>
                <option value="user">User</option>
              </Select>
            </Field>
            <Button type="submit" appearance="primary" disabled={action.busy || !person.trim()}>
              Share
            </Button>
          </Actions>
        </form>
      ) : null}
      <ProblemMessage error={action.error} />
    </Section>
  );
}
