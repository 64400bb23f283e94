// Machines: mine alone, where my cloud runs execute. Register one (its key
// shown once), rotate its key, delete it. The list never holds a key.
import {
  Button,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
} from '@fluentui/react-components';
import { useState } from 'react';
import { allPages, api, ask, type Machine } from '../api/client';
import { DeleteMachineDialog, RegisterMachineDialog, RotateKeyDialog } from '../components/MachineDialogs';
import { ProblemMessage } from '../components/ProblemMessage';
import { Actions, PageHeading, when } from '../components/layout';
import { useLoad } from '../useAsync';

/** Every machine of mine, oldest first (a few pages at most). */
export function myMachines(): Promise<Machine[]> {
  return allPages((continuationToken) =>
    ask(api.GET('/machines', { params: { query: { top: 100, continuationToken } } })),
  );
}

export function MachinesPage() {
  const machines = useLoad(myMachines, []);
  const [registering, setRegistering] = useState(false);
  const [rotating, setRotating] = useState<Machine | undefined>();
  const [deleting, setDeleting] = useState<Machine | undefined>();

  return (
    <>
      <PageHeading title="Machines">
        <Button appearance="primary" onClick={() => setRegistering(true)}>
          Register machine
        </Button>
      </PageHeading>
      <Text block>
        Your machines run the cloud runs you start, with flowshare&apos;s agent. They are yours alone: nobody else sees
        them or can send runs to them. A machine proves itself with its key, which is shown once.
      </Text>
      <ProblemMessage error={machines.error} />
      {machines.loading && !machines.data ? <Spinner label="Loading your machines" /> : null}
      {machines.data && machines.data.length === 0 ? <Text block>You have no machines yet.</Text> : null}
      {machines.data && machines.data.length > 0 ? (
        <Table aria-label="My machines" size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Name</TableHeaderCell>
              <TableHeaderCell>Id</TableHeaderCell>
              <TableHeaderCell>Registered</TableHeaderCell>
              <TableHeaderCell>
                <span className="visually-hidden">Actions</span>
              </TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {machines.data.map((machine) => (
              <TableRow key={machine.id} data-machine={machine.name}>
                <TableCell>{machine.name}</TableCell>
                <TableCell>
                  <code>{machine.id}</code>
                </TableCell>
                <TableCell>{when(machine.createdAt)}</TableCell>
                <TableCell>
                  <Actions>
                    <Button
                      size="small"
                      onClick={() => setRotating(machine)}
                      aria-label={`Rotate key of ${machine.name}`}
                    >
                      Rotate key
                    </Button>
                    <Button size="small" onClick={() => setDeleting(machine)} aria-label={`Delete ${machine.name}`}>
                      Delete
                    </Button>
                  </Actions>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : null}
      {registering ? (
        <RegisterMachineDialog
          onClose={(registered) => {
            setRegistering(false);
            if (registered) machines.reload();
          }}
        />
      ) : null}
      {rotating ? <RotateKeyDialog machine={rotating} onClose={() => setRotating(undefined)} /> : null}
      {deleting ? (
        <DeleteMachineDialog
          machine={deleting}
          onClose={(deleted) => {
            setDeleting(undefined);
            if (deleted) machines.reload();
          }}
        />
      ) : null}
    </>
  );
}
