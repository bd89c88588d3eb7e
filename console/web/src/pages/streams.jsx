// The Streams area. (Scaffold: its pages are being built.)
import { Page } from '../ui.jsx';

function StreamsList() {
  return <Page title="Streams"><p>Coming soon.</p></Page>;
}

export const routes = [{ path: '/streams', view: StreamsList, nav: 'Streams' }];
