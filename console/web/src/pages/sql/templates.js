// The Kinesis Analytics console's SQL templates, in Spate's dialect
// (analytics/query/doc.go), filled with the chosen stream and the columns
// of its proposed schema (GET /v1/streams/{name}/schema). Windows are short
// (10 seconds) so that a first result arrives within seconds of Run.
// integration/browser/sql.spec.js checks that POST /v1/validate accepts
// every one of them for the demo stream.

// reserved are the MySQL keywords a stream is likeliest to be named
// after; such a name is quoted (the list need not be complete: a name it
// misses is marked as an error by validation, and quoting by hand fixes it).
const reserved = new Set(
  ('add all alter and as asc between by case change check column create cross current_date current_time current_timestamp ' +
    'database default delete desc describe distinct div drop else end exists explain false for from full group having if ' +
    'in index inner insert interval into is join key keys kill left like limit lock match mod natural not null on or order ' +
    'outer primary range read references regexp rename replace right rlike schema select set show status table then to ' +
    'true union unique update use using values when where with write xor').split(' '),
);

// quoteIdent writes a stream or column name as SQL: plain when it is a
// plain identifier and no keyword, else in back quotes (a double-quoted
// name would be a string in this MySQL-based dialect).
export function quoteIdent(name) {
  const plain = /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !reserved.has(String(name).toLowerCase());
  return plain ? name : '`' + String(name).replace(/`/g, '``') + '`';
}

// roles picks, from a proposed schema's columns ({name, expr, type}), the
// event-time expression (ROWTIME, the arrival time, when the records have
// no timestamp), a grouping key (the first text column), a measure (the
// first number that is not the time) and a second measure.
export function roles(columns = []) {
  const time = columns.find((c) => c.type === 'TIMESTAMP');
  const key = columns.find((c) => c.type === 'VARCHAR' && !c.expr.includes('->'));
  const nums = columns.filter((c) => (c.type === 'DOUBLE' || c.type === 'BIGINT') && c !== time);
  const alias = (c) => String(c.name).replace(/[^A-Za-z0-9_]/g, '_');
  return {
    time: time ? time.expr : 'ROWTIME',
    key: key ? key.expr : null,
    keyName: key ? alias(key) : null,
    measure: nums[0] ? nums[0].expr : null,
    measureName: nums[0] ? alias(nums[0]) : 'value',
    measure2: nums[1] ? nums[1].expr : null,
    measure2Name: nums[1] ? alias(nums[1]) : null,
    // Up to five columns for a projection.
    some: columns.filter((c) => !c.expr.includes('->')).slice(0, 5).map((c) => c.expr),
  };
}

const tumble = (t) => `TUMBLE(${t}, INTERVAL '10' SECOND)`;
const lines = (...ls) => ls.filter((l) => l !== null && l !== undefined && l !== false).join('\n');
// list joins select-list items, one per line, with commas.
const list = (items) => items.filter(Boolean).map((s, i, a) => '  ' + s + (i < a.length - 1 ? ',' : '')).join('\n');

// templates: {id, label, build(stream, roles) => SQL}.
export const templates = [
  {
    id: 'filter',
    label: 'Continuous filter',
    build: (from, r) =>
      lines(
        '-- Continuous filter: every record that matches, as it arrives.',
        'SELECT',
        list(r.some.length ? r.some : ['ROWTIME AS arrived']),
        `FROM ${from}`,
        r.measure ? `WHERE ${r.measure} > 0;` : r.key ? `WHERE ${r.key} IS NOT NULL;` : 'WHERE ROWTIME IS NOT NULL;',
      ),
  },
  {
    id: 'tumbling',
    label: 'Tumbling window aggregate',
    build: (from, r) =>
      lines(
        '-- Tumbling window: one row per key for every 10 seconds of event time.',
        'SELECT',
        list([
          r.key,
          `TUMBLE_START(${r.time}, INTERVAL '10' SECOND) AS window_start`,
          'COUNT(*) AS records',
          r.measure && `AVG(${r.measure}) AS avg_${r.measureName}`,
          r.measure && `MAX(${r.measure}) AS max_${r.measureName}`,
        ]),
        `FROM ${from}`,
        `GROUP BY ${[r.key, tumble(r.time)].filter(Boolean).join(', ')};`,
      ),
  },
  {
    id: 'sliding',
    label: 'Sliding window aggregate',
    build: (from, r) =>
      lines(
        '-- Sliding window: the last minute, every 10 seconds.',
        'SELECT',
        list([
          r.key,
          `HOP_END(${r.time}, INTERVAL '10' SECOND, INTERVAL '1' MINUTE) AS window_end`,
          'COUNT(*) AS records',
          r.measure && `MIN(${r.measure}) AS min_${r.measureName}`,
          r.measure && `AVG(${r.measure}) AS avg_${r.measureName}`,
          r.measure && `MAX(${r.measure}) AS max_${r.measureName}`,
        ]),
        `FROM ${from}`,
        `GROUP BY ${[r.key, `HOP(${r.time}, INTERVAL '10' SECOND, INTERVAL '1' MINUTE)`].filter(Boolean).join(', ')};`,
      ),
  },
  {
    id: 'session',
    label: 'Session window',
    build: (from, r) =>
      lines(
        '-- Session window: a key\'s records until it is quiet for 5 seconds.',
        'SELECT',
        list([
          r.key,
          `SESSION_START(${r.time}, INTERVAL '5' SECOND) AS session_start`,
          `SESSION_END(${r.time}, INTERVAL '5' SECOND) AS session_end`,
          'COUNT(*) AS records',
          r.measure2 ? `SUM(${r.measure2}) AS total_${r.measure2Name}` : r.measure && `SUM(${r.measure}) AS total_${r.measureName}`,
        ]),
        `FROM ${from}`,
        `GROUP BY ${[r.key, `SESSION(${r.time}, INTERVAL '5' SECOND)`].filter(Boolean).join(', ')};`,
      ),
  },
  {
    id: 'topk',
    label: 'Top-K per window',
    build: (from, r) =>
      lines(
        '-- Top-K: the 5 busiest keys of every 10-second window.',
        'SELECT *',
        'FROM (',
        '  SELECT',
        list([
          r.key || 'ROWTIME',
          `TUMBLE_START(${r.time}, INTERVAL '10' SECOND) AS window_start`,
          'COUNT(*) AS records',
        ]).replace(/^/gm, '  '),
        `  FROM ${from}`,
        `  GROUP BY ${[r.key || 'ROWTIME', tumble(r.time)].join(', ')}`,
        ') AS t',
        'ORDER BY records DESC',
        'LIMIT 5;',
      ),
  },
  {
    id: 'distinct',
    label: 'Approximate distinct count',
    build: (from, r) =>
      lines(
        '-- Approximate distinct count (HyperLogLog, about 0.8 % error) per 10 seconds.',
        'SELECT',
        list([
          `TUMBLE_START(${r.time}, INTERVAL '10' SECOND) AS window_start`,
          'COUNT(*) AS records',
          `APPROX_COUNT_DISTINCT(${r.key || r.measure || 'ROWTIME'}) AS distinct_${r.key ? r.keyName : r.measure ? r.measureName : 'rowtime'}`,
        ]),
        `FROM ${from}`,
        `GROUP BY ${tumble(r.time)};`,
      ),
  },
];

// fill is template id's SQL for stream with its schema's columns.
export function fill(id, stream, columns) {
  const t = templates.find((x) => x.id === id) || templates[0];
  return t.build(quoteIdent(stream || 'SOURCE_STREAM'), roles(columns));
}

// insertInto turns a script's bare SELECT into INSERT INTO target SELECT:
// it finds the last statement (after any SET statements), skipping
// strings, quoted names and comments, and puts the INSERT before it.
export function insertInto(script, target) {
  let start = -1; // where the current statement's first token is
  let last = -1; // the start of the last statement with a token
  for (let i = 0; i < script.length; ) {
    const c = script[i];
    const two = script.slice(i, i + 2);
    if (two === '--' || c === '#') {
      const nl = script.indexOf('\n', i);
      i = nl < 0 ? script.length : nl + 1;
      continue;
    }
    if (two === '/*') {
      const end = script.indexOf('*/', i + 2);
      i = end < 0 ? script.length : end + 2;
      continue;
    }
    if (c === ';') {
      start = -1;
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (start < 0) {
      start = i;
      last = i;
    }
    if (c === "'" || c === '`' || c === '"') {
      let j = i + 1;
      while (j < script.length && script[j] !== c) j += script[j] === '\\' ? 2 : 1;
      i = j + 1;
      continue;
    }
    i++;
  }
  if (last < 0) return script;
  return script.slice(0, last) + `INSERT INTO ${quoteIdent(target)}\n` + script.slice(last);
}
