// The Functions area. (Scaffold: its pages are being built.)
import { Page } from '../ui.jsx';

function FunctionsList() {
  return <Page title="Functions"><p>Coming soon.</p></Page>;
}

export const routes = [{ path: '/functions', view: FunctionsList, nav: 'Functions' }];
