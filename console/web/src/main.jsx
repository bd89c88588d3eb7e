// The console's shell: loads config.json, asks for keys when the server
// wants signed requests, then shows the top navigation and the view of the
// current hash route. Each area owns one module under pages/ that exports
// its routes; add an area by adding its module to areas below.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { getConfig, getCredentials, loadConfig, needsSignIn, setCredentials } from './api.js';
import { href, match, usePath } from './router.js';
import { SignIn } from './signin.jsx';
import * as streams from './pages/streams.jsx';
import * as firehose from './pages/firehose.jsx';
import * as sql from './pages/sql.jsx';
import * as functions from './pages/functions.jsx';
import './style.css';

const areas = [streams, firehose, sql, functions];
const routes = areas.flatMap((a) => a.routes);

function NotFound({ path }) {
  return (
    <section class="page">
      <h1>Not found</h1>
      <p>
        Nothing is at <code>{path}</code>. <a href={href('/streams')}>Go to the streams</a>.
      </p>
    </section>
  );
}

function App() {
  const [ready, setReady] = useState(false);
  const [error, setError] = useState(null);
  const [, setSignedIn] = useState(!!getCredentials());
  const path = usePath();
  useEffect(() => {
    loadConfig().then(() => setReady(true), setError);
  }, []);
  if (error) return <p role="alert">Could not load the console's settings: {error.message}</p>;
  if (!ready) return <p>Loading…</p>;
  if (needsSignIn()) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  const found = path === '/' ? match(routes, '/streams') : match(routes, path);
  const View = found?.route.view;
  const section = '/' + (path.split('/')[1] || 'streams');
  return (
    <>
      <header class="top">
        <a class="brand" href={href('/streams')}>
          Spate
        </a>
        <nav aria-label="Main">
          {routes
            .filter((r) => r.nav)
            .map((r) => (
              <a href={href(r.path)} aria-current={r.path.startsWith(section) ? 'page' : undefined}>
                {r.nav}
              </a>
            ))}
        </nav>
        <span class="who">
          {getConfig()?.region}
          {getCredentials() && (
            <>
              {' · '}
              {getCredentials().accessKeyId}{' '}
              <button
                type="button"
                class="link"
                onClick={() => {
                  setCredentials(null);
                  setSignedIn(false);
                }}
              >
                Sign out
              </button>
            </>
          )}
        </span>
      </header>
      <main>{View ? <View {...found.params} /> : <NotFound path={path} />}</main>
    </>
  );
}

render(<App />, document.getElementById('app'));
