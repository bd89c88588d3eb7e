// The SQL area. (Scaffold: its pages are being built.)
import { Page } from '../ui.jsx';

function SqlList() {
  return <Page title="SQL"><p>Coming soon.</p></Page>;
}

export const routes = [{ path: '/sql', view: SqlList, nav: 'SQL' }];
