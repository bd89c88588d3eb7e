// The Delivery streams area. (Scaffold: its pages are being built.)
import { Page } from '../ui.jsx';

function FirehoseList() {
  return <Page title="Delivery streams"><p>Coming soon.</p></Page>;
}

export const routes = [{ path: '/firehose', view: FirehoseList, nav: 'Delivery streams' }];
