// The SQL console's templates (console/web/src/pages/sql/templates.js),
// outside the browser: every template filled for a range of proposed
// schemas (the demo's, one without a timestamp, one without text, nested
// fields, odd names; expr quoted as GET /v1/streams/{name}/schema
// proposes), and the same as INSERT INTO (Deploy's rewrite), must
// be accepted by the server's POST /v1/validate with the expected source
// and target. Run by TestConsoleSQLTemplates with SPATE_URL set; prints
// one JSON line per checked script.
import assert from 'node:assert/strict';
import { fill, insertInto, quoteIdent, templates } from '../../console/web/src/pages/sql/templates.js';

const base = process.env.SPATE_URL;
const col = (name, type, expr = quoteIdent(name)) => ({ name, type, expr });

const schemas = {
  demo: [col('ticker_symbol', 'VARCHAR'), col('sector', 'VARCHAR'), col('price', 'DOUBLE'), col('change', 'DOUBLE'), col('event_time', 'TIMESTAMP')],
  'no timestamp': [col('user', 'VARCHAR'), col('clicks', 'BIGINT')],
  'no text': [col('ts', 'TIMESTAMP'), col('value', 'DOUBLE')],
  'numbers only': [col('n', 'BIGINT')],
  'odd names': [col('user-id', 'VARCHAR'), col('select', 'DOUBLE'), col('order.total', 'DOUBLE', "`order`->>'$.total'"), col('at', 'TIMESTAMP')],
  empty: [],
};

async function validate(sql) {
  const res = await fetch(base + '/v1/validate', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ sql }) });
  const body = await res.json();
  assert.equal(res.status, 200, `POST /v1/validate refused\n${sql}\n${JSON.stringify(body)}`);
  return body;
}

for (const stream of ['ticker', 'my-stream.v2', 'order']) {
  for (const [name, columns] of Object.entries(schemas)) {
    for (const t of templates) {
      const sql = fill(t.id, stream, columns);
      const d = await validate(sql);
      assert.equal(d.source, stream, `${t.id} for ${name} reads ${d.source}`);
      assert.equal(d.target ?? '', '', `${t.id} is a bare SELECT`);
      const deployed = await validate(insertInto(sql, 'out-stream'));
      assert.equal(deployed.target, 'out-stream', `${t.id} for ${name} deployed writes ${deployed.target}`);
      assert.deepEqual(deployed.columns, d.columns, 'INSERT INTO keeps the columns');
      console.log(JSON.stringify({ stream, schema: name, template: t.id, columns: d.columns }));
    }
  }
}

// insertInto finds the query after SET statements, comments and quoted ';'.
const cases = [
  ['SELECT a FROM s', 'INSERT INTO out\nSELECT a FROM s'],
  ["SET emit = 'changes';\n-- a; comment\nSELECT a FROM s;", "SET emit = 'changes';\n-- a; comment\nINSERT INTO out\nSELECT a FROM s;"],
  ["SET late_rows = 'x;y'; /* ; */ SELECT ';' AS c FROM s", "SET late_rows = 'x;y'; /* ; */ INSERT INTO out\nSELECT ';' AS c FROM s"],
  ['', ''],
];
for (const [in_, want] of cases) assert.equal(insertInto(in_, 'out'), want);
assert.equal(insertInto('SELECT a FROM s', 'my-out'), 'INSERT INTO `my-out`\nSELECT a FROM s');
console.log(JSON.stringify({ insertInto: cases.length + 1 }));
