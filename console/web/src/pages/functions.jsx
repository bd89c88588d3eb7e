// The Functions area: the functions list (#/functions) and a function's
// page (#/functions/NAME) with its metrics, a test invoke and its event
// source mappings. It talks to the Lambda REST API (pages/functions/lambda.js)
// and reads metrics from GET /v1/metrics.
import { FunctionsList } from './functions/list.jsx';
import { FunctionDetail } from './functions/detail.jsx';
import './functions.css';

export const routes = [
  { path: '/functions', view: FunctionsList, nav: 'Functions' },
  { path: '/functions/:name', view: FunctionDetail },
];
