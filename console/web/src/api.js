// The console's one way to Spate: the same public APIs the CLI and the AWS
// SDKs use, on the origin that served the page. Every request is signed with
// SigV4 when the user has signed in (config.auth === 'sigv4'); the keys live
// in sessionStorage only (gone with the tab), never in a URL.
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';

const credentialsKey = 'spate.credentials';

// ApiError is a failed call: type is the AWS error type
// (ResourceNotFoundException, ...), status the HTTP status; a SQL error also
// has line and column (1-based).
export class ApiError extends Error {
  constructor(type, message, status, extra = {}) {
    super(message || type);
    this.type = type;
    this.status = status;
    Object.assign(this, extra);
  }
}

let config = null;

// loadConfig reads /console/config.json: {region, accountId, auth, version}.
// auth is "sigv4" when requests must be signed.
export async function loadConfig() {
  if (!config) {
    const res = await fetch('config.json', { cache: 'no-store' });
    if (!res.ok) throw new ApiError('InternalFailure', `config.json: HTTP ${res.status}`, res.status);
    config = await res.json();
  }
  return config;
}

export function getConfig() {
  return config;
}

export function getCredentials() {
  try {
    const raw = sessionStorage.getItem(credentialsKey);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

export function setCredentials(creds) {
  if (creds) sessionStorage.setItem(credentialsKey, JSON.stringify(creds));
  else sessionStorage.removeItem(credentialsKey);
}

// needsSignIn is true when the server wants signatures and the tab has none.
export function needsSignIn() {
  return config?.auth === 'sigv4' && !getCredentials();
}

// request sends method path to the page's origin, signed for service when
// signed in, and returns the Response (whatever its status).
export async function request(service, method, path, { headers = {}, body, signal } = {}) {
  const url = new URL(path, location.origin);
  const hdrs = { ...headers };
  const creds = getCredentials();
  if (creds && config) {
    const signer = new SignatureV4({
      service,
      region: config.region,
      credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
      sha256: Sha256,
      uriEscapePath: true,
    });
    const query = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      headers: { ...hdrs, host: url.host },
      body,
    });
    for (const [k, v] of Object.entries(signed.headers)) {
      if (k.toLowerCase() !== 'host') hdrs[k] = v;
    }
  }
  return fetch(url, { method, headers: hdrs, body, signal, cache: 'no-store' });
}

// errorOf turns a failed Response into an ApiError: the JSON faces put the
// type in __type (maybe as "namespace#Type") or in x-amzn-ErrorType.
async function errorOf(res) {
  let data = {};
  try {
    data = await res.json();
  } catch {
    // not JSON: the status says what there is to say
  }
  // The Lambda face's body has Type "User" or "Service" (the fault's side),
  // its error type only in the header: the header comes before Type.
  let type = data.__type || res.headers.get('x-amzn-ErrorType') || data.Type || `HTTP ${res.status}`;
  type = String(type).split(':')[0];
  if (type.includes('#')) type = type.slice(type.indexOf('#') + 1);
  const message = data.message || data.Message || res.statusText;
  const extra = {};
  if (data.line) extra.line = data.line;
  if (data.column) extra.column = data.column;
  return new ApiError(type, message, res.status, extra);
}

async function jsonOrThrow(res) {
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return {};
  const text = await res.text();
  return text ? JSON.parse(text) : {};
}

async function awsJSON(service, target, action, input, signal) {
  const body = JSON.stringify(input || {});
  const res = await request(service, 'POST', '/', {
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `${target}.${action}` },
    body,
    signal,
  });
  return jsonOrThrow(res);
}

// kinesis calls a Kinesis Data Streams action: kinesis('ListStreams', {}).
// Record data is base64, as on the wire.
export function kinesis(action, input, signal) {
  return awsJSON('kinesis', 'Kinesis_20131202', action, input, signal);
}

// firehose calls a Firehose action: firehose('ListDeliveryStreams', {}).
export function firehose(action, input, signal) {
  return awsJSON('firehose', 'Firehose_20150804', action, input, signal);
}

// lambda calls the Lambda REST API: lambda('GET', '/2015-03-31/functions/').
export async function lambda(method, path, input, signal) {
  const body = input === undefined ? undefined : JSON.stringify(input);
  const headers = body === undefined ? {} : { 'Content-Type': 'application/json' };
  return jsonOrThrow(await request('lambda', method, path, { headers, body, signal }));
}

// analytics calls Spate Analytics' HTTP API under /v1/ (docs/api.md):
// analytics('POST', '/v1/validate', {sql}).
export async function analytics(method, path, input, signal) {
  const body = input === undefined ? undefined : JSON.stringify(input);
  const headers = body === undefined ? {} : { 'Content-Type': 'application/json' };
  return jsonOrThrow(await request('kinesisanalytics', method, path, { headers, body, signal }));
}

// metrics reads GET /v1/metrics: the current value of every series whose
// labels match filters ({stream: 'orders'}; several filters must all match),
// as {timestamp (ms), metrics: [{name, type, labels, value}]}; histograms
// give their count and sum as name_count and name_sum.
export async function metrics(filters, signal) {
  const q = new URLSearchParams(filters).toString();
  return jsonOrThrow(await request('monitoring', 'GET', `/v1/metrics${q ? '?' + q : ''}`, { signal }));
}

// events reads a Server-Sent Events stream (GET, signed like every other
// request, which EventSource cannot do) and calls onEvent(name, data) for
// each event until signal aborts or the server ends it.
export async function events(service, path, onEvent, signal) {
  const res = await request(service, 'GET', path, { headers: { Accept: 'text/event-stream' }, signal });
  if (!res.ok) throw await errorOf(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let name = 'message';
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line === '') {
        if (data.length) onEvent(name, data.join('\n'));
        name = 'message';
        data = [];
      } else if (line.startsWith(':')) {
        // a keep-alive comment
      } else if (line.startsWith('event:')) {
        name = line.slice(6).trim();
      } else if (line.startsWith('data:')) {
        data.push(line.slice(5).replace(/^ /, ''));
      }
    }
  }
}

// b64 helpers for record data.
export function decodeBase64(s) {
  const bin = atob(s || '');
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function encodeBase64(bytes) {
  if (typeof bytes === 'string') bytes = new TextEncoder().encode(bytes);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

// listAllStreams pages through ListStreams (NextToken) and answers every
// stream's StreamSummaries entry ({StreamName, StreamARN, StreamStatus,
// ...}): one page holds at most Limit streams, so a form that showed only
// the first would hide the rest.
export async function listAllStreams(signal) {
  const out = [];
  let token;
  do {
    const page = await kinesis('ListStreams', token ? { NextToken: token } : { Limit: 1000 }, signal);
    out.push(...(page.StreamSummaries || []));
    token = page.HasMoreStreams ? page.NextToken : undefined;
  } while (token);
  return out;
}

// listAllDeliveryStreams pages through ListDeliveryStreams
// (ExclusiveStartDeliveryStreamName) and answers every name, of type
// (DirectPut, KinesisStreamAsSource) when given.
export async function listAllDeliveryStreams(type, signal) {
  const names = [];
  let start;
  for (;;) {
    const input = { Limit: 1000, ExclusiveStartDeliveryStreamName: start };
    if (type) input.DeliveryStreamType = type;
    const page = await firehose('ListDeliveryStreams', input, signal);
    names.push(...(page.DeliveryStreamNames || []));
    if (!page.HasMoreDeliveryStreams || !page.DeliveryStreamNames?.length) return names;
    start = names[names.length - 1];
  }
}

// waitStreamActive polls DescribeStreamSummary until stream is ACTIVE
// (CreateStream answers while it is CREATING), for at most a minute.
export async function waitStreamActive(stream) {
  for (let i = 0; i < 240; i++) {
    const d = await kinesis('DescribeStreamSummary', { StreamName: stream });
    if (d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`stream ${stream} did not become ACTIVE within a minute`);
}
