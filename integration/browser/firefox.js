// A smoke run of the web console in Debian's firefox-esr, over WebDriver
// BiDi, the W3C protocol Firefox speaks natively: playwright-core drives
// only its own patched Firefox (and its BiDi mode wants commands this ESR
// lacks), and no registry here ships geckodriver. So this small client
// speaks BiDi itself over Node's WebSocket: launch, navigate, evaluate.
//
//   node --experimental-websocket firefox.js
//
// Environment: SPATE_URL (http://host:port), FIREFOX (the binary),
// SPEC_STREAM (a stream the Go test created and put records into).
// It checks, failing with a message on the first miss: the console loads;
// every area of the navigation renders its page; the stream is listed and
// its page draws its shard table and, once shard metrics are enabled with
// its button, a chart (uPlot); the SQL page mounts
// the CodeMirror editor; no uncaught error happened in the page.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const origin = process.env.SPATE_URL;
const stream = process.env.SPEC_STREAM;

function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'spate-firefox-'));
  // Port 0: Firefox picks one and prints the address on stderr.
  const ff = spawn(process.env.FIREFOX || 'firefox-esr', ['--headless', '--no-remote', '--profile', profile, '--remote-debugging-port=0', '--window-size=1280,800'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1' },
  });
  const address = new Promise((resolve, reject) => {
    let log = '';
    ff.stderr.on('data', (d) => {
      log += d;
      const m = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(log);
      if (m) resolve(m[1]);
    });
    ff.on('exit', (code) => reject(new Error(`firefox exited (${code}) before listening:\n${log}`)));
    setTimeout(() => reject(new Error(`firefox did not start WebDriver BiDi in 60 s:\n${log}`)), 60000);
  });
  return { ff, profile, address };
}

// bidi is a minimal WebDriver BiDi session: send(method, params) answers
// the command's result or throws its error.
async function bidi(url) {
  const ws = new WebSocket(url + '/session');
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error('cannot connect to ' + url));
  });
  let next = 1;
  const waiting = new Map();
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    const w = waiting.get(msg.id);
    if (!w) return;
    waiting.delete(msg.id);
    if (msg.type === 'error') w.reject(new Error(`${msg.error}: ${msg.message}`));
    else w.resolve(msg.result);
  };
  const send = (method, params) =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send('session.new', { capabilities: {} });
  return { send, close: () => ws.close() };
}

async function main() {
  if (!origin || !stream) throw new Error('SPATE_URL and SPEC_STREAM must be set');
  const { ff, profile, address } = launch();
  try {
    const s = await bidi(await address);
    // Collect uncaught errors from the first script on.
    await s.send('script.addPreloadScript', {
      functionDeclaration: "() => { window.__errors = []; addEventListener('error', (e) => window.__errors.push(String(e.message))); addEventListener('unhandledrejection', (e) => window.__errors.push(String(e.reason))); }",
    });
    const tree = await s.send('browsingContext.getTree', {});
    const context = tree.contexts[0].context;
    const evaluate = async (expression) => {
      const r = await s.send('script.evaluate', { expression, target: { context }, awaitPromise: true, resultOwnership: 'none' });
      if (r.type === 'exception') throw new Error(`${expression}: ${r.exceptionDetails.text}`);
      return r.result.value;
    };
    // until polls expression until it is truthy (as a JSON string).
    const until = async (what, expression, timeoutMs = 30000) => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const v = await evaluate(`JSON.stringify(${expression})`);
        if (v && v !== 'null' && v !== 'false' && v !== '""' && v !== '0') return JSON.parse(v);
        if (Date.now() > end) throw new Error(`firefox: ${what}: still ${v} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const go = (hash) => evaluate(`location.hash = ${JSON.stringify(hash)}`);

    await s.send('browsingContext.navigate', { context, url: origin + '/console/', wait: 'complete' });
    const links = await until('the navigation', `[...document.querySelectorAll('nav[aria-label="Main"] a')].map((a) => a.textContent).join('|')`);
    if (links !== 'Streams|Delivery streams|SQL|Functions') throw new Error(`firefox: the navigation reads ${links}`);
    for (const [hash, title] of [['#/firehose', 'Delivery streams'], ['#/functions', 'Functions'], ['#/sql', 'SQL'], ['#/streams', 'Streams']]) {
      await go(hash);
      await until(`the ${title} page`, `document.querySelector('h1')?.textContent === ${JSON.stringify(title)}`);
    }
    await until('the stream in the list', `[...document.querySelectorAll('table[aria-label="Streams"] a')].some((a) => a.textContent === ${JSON.stringify(stream)})`);
    await go('#/streams/' + encodeURIComponent(stream));
    await until('the shard table', `document.querySelectorAll('table[aria-label="Shards"] tbody tr').length === 2`);
    // Shard metrics are opt-in, as on Kinesis: the page's button turns them on.
    await until('the Enable shard metrics button', `[...document.querySelectorAll('button')].some((b) => b.textContent === 'Enable shard metrics')`);
    await evaluate(`[...document.querySelectorAll('button')].find((b) => b.textContent === 'Enable shard metrics').click()`);
    await until('a chart drawn on canvas', `document.querySelector('.chart canvas') !== null`);
    await go('#/sql');
    await until('the CodeMirror editor', `document.querySelector('.cm-editor .cm-content') !== null`);
    const errors = await evaluate('JSON.stringify(window.__errors)');
    if (errors !== '[]') throw new Error('firefox: uncaught errors in the page: ' + errors);
    process.stdout.write(JSON.stringify({ firefox: 'ok' }) + '\n');
    s.close();
  } finally {
    ff.kill('SIGKILL');
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err && err.stack ? err.stack : err);
    process.exit(1);
  },
);
