// A modal dialog of the console: Fluent's Dialog, open while mounted, that
// gives the focus back to the page when it goes (see focusPageHeading).
import { Dialog, DialogSurface } from '@fluentui/react-components';
import { useEffect, type ReactNode } from 'react';
import { focusPageHeading } from './layout';

export function AppDialog(props: { onClose: () => void; children: ReactNode }) {
  useEffect(
    () => () => {
      // Once the dialog has left the page, and no other is open: Fluent's focus manager (tabster)
      // hid the rest of the page from assistive technology while it was open, and does not
      // always give it back when the dialog goes with its opener (a deleted row, another page).
      // The focus goes to the page's heading when it has nowhere else to be.
      setTimeout(() => {
        if (document.querySelector('[role="dialog"]')) return;
        document.getElementById('root')?.removeAttribute('aria-hidden');
        if (!document.activeElement || document.activeElement === document.body) focusPageHeading();
      }, 0);
    },
    [],
  );
  return (
    <Dialog open onOpenChange={(_, data) => !data.open && props.onClose()}>
      <DialogSurface>{props.children}</DialogSurface>
    </Dialog>
  );
}
