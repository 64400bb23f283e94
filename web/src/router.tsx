// The console's pages are paths of the site (the host serves index.html for
// each); moving between them changes the history, no page load.
import { Link as FluentLink } from '@fluentui/react-components';
import { useSyncExternalStore, type MouseEvent, type ReactNode } from 'react';

const NAVIGATED = 'flowshare:navigated';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATED, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATED, onChange);
  };
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

export function navigate(to: string): void {
  window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(NAVIGATED));
  window.scrollTo(0, 0);
}

/** A link to a page of the console: a real link (open in a new tab works), followed without a page load. */
export function PageLink(props: { href: string; children: ReactNode; 'aria-current'?: 'page' }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(props.href);
  };
  return (
    <FluentLink href={props.href} onClick={onClick} aria-current={props['aria-current']}>
      {props.children}
    </FluentLink>
  );
}
