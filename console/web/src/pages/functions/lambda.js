// The Lambda REST API calls of the Functions area: the same paths the AWS
// CLI and SDKs use (docs/functions.md), through api.js's signed request.
import { ApiError, encodeBase64, decodeBase64, lambda, request } from '../../api.js';

const fnPath = (name) => `/2015-03-31/functions/${encodeURIComponent(name)}`;
const esmPath = '/2015-03-31/event-source-mappings/';

// maxZipBytes is Lambda's limit on a zip uploaded directly (CreateFunction's
// ZipFile): 50 MB, functions.MaxZipBytes.
export const maxZipBytes = 50 * 1024 * 1024;

// runtimes Spate runs (functions.Runtime*): provided.* zips hold a
// bootstrap executable at their root.
export const runtimes = ['provided.al2023', 'provided.al2'];

// listFunctions pages through ListFunctions.
export async function listFunctions(signal) {
  const out = [];
  let marker = '';
  do {
    const q = marker ? `?Marker=${encodeURIComponent(marker)}` : '';
    const page = await lambda('GET', `/2015-03-31/functions/${q}`, undefined, signal);
    out.push(...(page.Functions || []));
    marker = page.NextMarker || '';
  } while (marker);
  return out.sort((a, b) => a.FunctionName.localeCompare(b.FunctionName));
}

export function getFunction(name, signal) {
  return lambda('GET', fnPath(name), undefined, signal);
}

export function deleteFunction(name) {
  return lambda('DELETE', fnPath(name));
}

// createFunction uploads zip (an ArrayBuffer) as CreateFunction's ZipFile.
export function createFunction({ name, runtime, handler, role, memory, timeout, zip }) {
  return lambda('POST', '/2015-03-31/functions', {
    FunctionName: name,
    Runtime: runtime,
    Handler: handler,
    Role: role,
    MemorySize: memory,
    Timeout: timeout,
    Code: { ZipFile: encodeBase64(new Uint8Array(zip)) },
  });
}

// invoke runs the function synchronously with LogType Tail and answers
// {status, functionError, payload (text), log (text)}. A function error is
// an answer, not a throw: Lambda returns it with status 200.
export async function invoke(name, payload) {
  const res = await request('lambda', 'POST', `${fnPath(name)}/invocations`, {
    headers: { 'Content-Type': 'application/json', 'X-Amz-Log-Type': 'Tail' },
    body: payload,
  });
  const text = await res.text();
  if (!res.ok) {
    let data = {};
    try {
      data = JSON.parse(text);
    } catch {
      // not JSON: the status says it
    }
    const type = String(res.headers.get('x-amzn-ErrorType') || data.__type || `HTTP ${res.status}`).split(':')[0];
    throw new ApiError(type, data.message || data.Message || res.statusText, res.status);
  }
  const logB64 = res.headers.get('X-Amz-Log-Result');
  return {
    status: res.status,
    functionError: res.headers.get('X-Amz-Function-Error') || '',
    payload: text,
    log: logB64 ? new TextDecoder().decode(decodeBase64(logB64)) : '',
  };
}

export async function listMappings(functionName, signal) {
  const out = [];
  let marker = '';
  do {
    const q = new URLSearchParams({ FunctionName: functionName });
    if (marker) q.set('Marker', marker);
    const page = await lambda('GET', `${esmPath}?${q}`, undefined, signal);
    out.push(...(page.EventSourceMappings || []));
    marker = page.NextMarker || '';
  } while (marker);
  return out.sort((a, b) => (a.EventSourceArn || '').localeCompare(b.EventSourceArn || '') || a.UUID.localeCompare(b.UUID));
}

export function createMapping({ functionName, streamArn, batchSize, startingPosition }) {
  return lambda('POST', esmPath, {
    FunctionName: functionName,
    EventSourceArn: streamArn,
    BatchSize: batchSize,
    StartingPosition: startingPosition,
  });
}

export function setMappingEnabled(uuid, enabled) {
  return lambda('PUT', esmPath + encodeURIComponent(uuid), { Enabled: enabled });
}

export function deleteMapping(uuid) {
  return lambda('DELETE', esmPath + encodeURIComponent(uuid));
}

// streamName is the name in a stream ARN (arn:aws:kinesis:R:A:stream/NAME).
export function streamName(arn) {
  const i = (arn || '').indexOf(':stream/');
  return i >= 0 ? arn.slice(i + 8) : arn || '';
}

// lastModified parses Lambda's LastModified ("2024-01-02T03:04:05.000+0000").
export function lastModified(s) {
  if (!s) return null;
  const d = new Date(String(s).replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
  return Number.isNaN(d.getTime()) ? null : d;
}
