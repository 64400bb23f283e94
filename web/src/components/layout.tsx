// Small pieces every page uses: a section with its heading, a page heading row.
import { makeStyles, Subtitle1, Title1, tokens } from '@fluentui/react-components';
import { useEffect, type ReactNode } from 'react';

const useStyles = makeStyles({
  section: {
    display: 'flex',
    flexDirection: 'column',
    gap: tokens.spacingVerticalM,
    marginBlockEnd: tokens.spacingVerticalXXL,
  },
  heading: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalL, flexWrap: 'wrap' },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS, flexWrap: 'wrap', alignItems: 'end' },
});

/** Puts the keyboard focus on the page's heading: after moving to another page, or when a dialog's opener is gone. */
export function focusPageHeading(): void {
  document.querySelector<HTMLElement>('main h1')?.focus();
}

export function PageHeading(props: { title: string; children?: ReactNode; badge?: ReactNode }) {
  const styles = useStyles();
  useEffect(() => {
    document.title = `${props.title} - flowshare`;
  }, [props.title]);
  useEffect(() => {
    if (!document.activeElement || document.activeElement === document.body) focusPageHeading();
  }, []);
  return (
    <div className={styles.heading}>
      <Title1 as="h1" tabIndex={-1}>
        {props.title}
      </Title1>
      {props.badge}
      {props.children}
    </div>
  );
}

export function Section(props: { title: string; id: string; children: ReactNode; actions?: ReactNode }) {
  const styles = useStyles();
  return (
    <section className={styles.section} aria-labelledby={`${props.id}-heading`}>
      <div className={styles.heading}>
        <Subtitle1 as="h2" id={`${props.id}-heading`}>
          {props.title}
        </Subtitle1>
        {props.actions}
      </div>
      {props.children}
    </section>
  );
}

export function Actions({ children }: { children: ReactNode }) {
  return <div className={useStyles().actions}>{children}</div>;
}

export function when(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '';
}

export const ROLE_NAMES = { owner: 'Owner', coOwner: 'Co-owner', user: 'User' } as const;
