// The console's frame: who is signed in, the navigation, and the page the
// path names. Without a session it offers sign-in and shows nothing else.
import { Button, makeStyles, Spinner, Text, Title1, tokens } from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import { api, ApiProblem, ask, setCsrfToken, SIGNED_OUT_EVENT, type Session } from './api/client';
import { ProblemMessage } from './components/ProblemMessage';
import { ConnectionsPage } from './pages/ConnectionsPage';
import { FlowPage } from './pages/FlowPage';
import { FlowsPage } from './pages/FlowsPage';
import { MachinesPage } from './pages/MachinesPage';
import { RunPage } from './pages/RunPage';
import { PageLink, usePath } from './router';
import { SessionContext, signInHref } from './session';

const useStyles = makeStyles({
  header: {
    display: 'flex',
    alignItems: 'center',
    gap: tokens.spacingHorizontalXL,
    padding: `${tokens.spacingVerticalM} ${tokens.spacingHorizontalXXL}`,
    backgroundColor: tokens.colorBrandBackground,
    color: tokens.colorNeutralForegroundOnBrand,
  },
  brand: { fontWeight: tokens.fontWeightSemibold, fontSize: tokens.fontSizeBase500 },
  nav: { display: 'flex', gap: tokens.spacingHorizontalL, flexGrow: 1 },
  navList: { display: 'flex', gap: tokens.spacingHorizontalL, listStyleType: 'none', margin: 0, padding: 0 },
  navLink: {
    '& a': { color: tokens.colorNeutralForegroundOnBrand },
    '& a:hover': { color: tokens.colorNeutralForegroundOnBrand },
    '& a[aria-current="page"]': { textDecorationLine: 'underline' },
  },
  who: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalM },
  main: { padding: `${tokens.spacingVerticalXL} ${tokens.spacingHorizontalXXL}`, maxWidth: '80rem' },
  signIn: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalL, maxWidth: '32rem' },
});

type SessionState =
  | { kind: 'loading' }
  | { kind: 'signedOut' }
  | { kind: 'signedIn'; session: Session }
  | { kind: 'failed'; error: unknown };

export function App() {
  const styles = useStyles();
  const path = usePath();
  const [state, setState] = useState<SessionState>({ kind: 'loading' });

  useEffect(() => {
    ask(api.GET('/auth/session')).then(
      (session) => {
        setCsrfToken(session.csrfToken);
        setState({ kind: 'signedIn', session });
      },
      (error: unknown) =>
        setState(
          error instanceof ApiProblem && error.status === 401 ? { kind: 'signedOut' } : { kind: 'failed', error },
        ),
    );
  }, []);

  useEffect(() => {
    const gone = () => {
      setCsrfToken(undefined);
      setState({ kind: 'signedOut' });
    };
    window.addEventListener(SIGNED_OUT_EVENT, gone);
    return () => window.removeEventListener(SIGNED_OUT_EVENT, gone);
  }, []);

  const signOut = async () => {
    await ask(api.POST('/auth/signout'));
    setCsrfToken(undefined);
    setState({ kind: 'signedOut' });
  };

  if (state.kind === 'loading') return <Spinner label="Loading flowshare" />;
  if (state.kind !== 'signedIn') {
    return (
      <>
        <header className={styles.header}>
          <span className={styles.brand}>flowshare</span>
        </header>
        <main className={styles.main}>
          <div className={styles.signIn}>
            <Title1 as="h1">Sign in to flowshare</Title1>
            <Text>
              Share desktop flows with connector actions without sharing the connections behind them. Sign in to see
              your flows and connections.
            </Text>
            {state.kind === 'failed' ? <ProblemMessage error={state.error} /> : null}
            <div>
              <Button as="a" appearance="primary" href={signInHref()}>
                Sign in
              </Button>
            </div>
          </div>
        </main>
      </>
    );
  }

  const { session } = state;
  const page = route(path);
  return (
    <SessionContext.Provider value={session}>
      <header className={styles.header}>
        <span className={styles.brand}>flowshare</span>
        <nav aria-label="Main" className={styles.nav}>
          <ul className={styles.navList}>
            {NAV.map((item) => (
              <li key={item.href} className={styles.navLink}>
                <PageLink href={item.href} aria-current={page.section === item.section ? 'page' : undefined}>
                  {item.label}
                </PageLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className={styles.who}>
          <Text>Signed in as {session.name}</Text>
          <Button onClick={() => void signOut()}>Sign out</Button>
        </div>
      </header>
      <main className={styles.main}>{page.element}</main>
    </SessionContext.Provider>
  );
}

/** The console's sections. */
const NAV = [
  { href: '/', label: 'Flows', section: 'flows' },
  { href: '/connections', label: 'Connections', section: 'connections' },
  { href: '/machines', label: 'Machines', section: 'machines' },
] as const;

function route(path: string): { section: string; element: React.ReactElement } {
  const flow = /^\/flows\/([^/]+)\/?$/.exec(path);
  if (flow) return { section: 'flows', element: <FlowPage key={flow[1]} flowId={decodeURIComponent(flow[1]!)} /> };
  if (path === '/' || path === '/flows') return { section: 'flows', element: <FlowsPage /> };
  // A run's id is its flow's and its own part joined by a dot (runPageHref): a path ending in a dot would name a file.
  const run = /^\/flows\/([^/]+)\/runs\/([^/]+)\/?$/.exec(path);
  if (run) {
    const runId = `${decodeURIComponent(run[1]!)}.${decodeURIComponent(run[2]!)}`;
    return { section: 'flows', element: <RunPage key={runId} runId={runId} /> };
  }
  if (path === '/connections') return { section: 'connections', element: <ConnectionsPage /> };
  if (path === '/machines') return { section: 'machines', element: <MachinesPage /> };
  return {
    section: '',
    element: (
      <>
        <Title1 as="h1">Not found</Title1>
        <p>
          There is no page here. <PageLink href="/">Go to your flows</PageLink>.
        </p>
      </>
    ),
  };
}
