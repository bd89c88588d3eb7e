// How the record browser shows a record's data: JSON (pretty), UTF-8
// text, or bytes in hex. "auto" picks the first that fits, as a person
// would read it.
import { decodeBase64 } from '../../api.js';

// maxShown bounds what one cell shows: a record may hold 1 MiB.
const maxShown = 4096;

const utf8 = new TextDecoder('utf-8', { fatal: true });

// decode turns a record's base64 data into {kind: 'json'|'text'|'bytes',
// text, size} for mode 'auto', 'json', 'text' or 'hex'. A forced mode that
// does not fit falls back to the next (JSON to text to bytes) and says so
// in note.
export function decode(data, mode = 'auto') {
  const bytes = decodeBase64(data);
  const size = bytes.length;
  if (mode === 'hex') return { kind: 'bytes', text: hex(bytes), size };
  let text = null;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { kind: 'bytes', text: hex(bytes), size, note: mode === 'auto' ? undefined : 'not UTF-8 text' };
  }
  if (mode === 'text') return { kind: 'text', text: cut(text), size };
  const t = text.trim();
  if (t.startsWith('{') || t.startsWith('[') || mode === 'json') {
    try {
      return { kind: 'json', text: cut(JSON.stringify(JSON.parse(t), null, 2)), size };
    } catch {
      if (mode === 'json') return { kind: 'text', text: cut(text), size, note: 'not JSON' };
    }
  }
  return { kind: 'text', text: cut(text), size };
}

function cut(s) {
  return s.length > maxShown ? s.slice(0, maxShown) + '…' : s;
}

function hex(bytes) {
  const n = Math.min(bytes.length, maxShown / 3);
  const parts = [];
  for (let i = 0; i < n; i++) parts.push(bytes[i].toString(16).padStart(2, '0'));
  return parts.join(' ') + (bytes.length > n ? ' …' : '');
}
