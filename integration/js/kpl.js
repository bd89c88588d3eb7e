// kpl.js runs aws-kinesis-agg (awslabs' KPL aggregation module for Node.js)
// for the integration tests (integration/kpl_test.go), through files, so no
// Kinesis client is needed here:
//
//   node kpl.js aggregate   USERS.json AGGREGATES.json
//   node kpl.js deaggregate AGGREGATES.json USERS.json
//
// USERS.json:      [{"partitionKey", "explicitHashKey" (optional), "data" (base64)}]
// AGGREGATES.json: [{"partitionKey", "explicitHashKey" (optional), "data" (base64)}],
//                  as Kinesis records to put
//
// Resolve aws-kinesis-agg from .tools/npm-clients/node_modules (NODE_PATH),
// where scripts/npm-clients.sh installs it.
'use strict';

const fs = require('fs');
const agg = require('aws-kinesis-agg');

function fail(err) {
  console.error(`kpl.js: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
}

const [mode, inPath, outPath] = process.argv.slice(2);
if (!mode || !inPath || !outPath) {
  fail('usage: node kpl.js aggregate|deaggregate IN.json OUT.json');
}
const input = JSON.parse(fs.readFileSync(inPath, 'utf8'));

if (mode === 'aggregate') {
  const records = input.map((r) => {
    const rec = { partitionKey: r.partitionKey, data: Buffer.from(r.data, 'base64') };
    if (r.explicitHashKey) {
      rec.explicitHashKey = r.explicitHashKey;
    }
    return rec;
  });
  const out = [];
  agg.aggregate(
    records,
    (encoded, done) => {
      // The module names the hash key "ExplicitHashKey" on encoded records.
      const ehk = encoded.ExplicitHashKey || encoded.explicitHashKey || '';
      out.push({ partitionKey: encoded.partitionKey, explicitHashKey: ehk, data: encoded.data.toString('base64') });
      done();
    },
    () => fs.writeFileSync(outPath, JSON.stringify(out)),
    (err) => fail(err),
  );
} else if (mode === 'deaggregate') {
  const out = [];
  for (const r of input) {
    const record = { partitionKey: r.partitionKey, explicitPartitionKey: r.explicitHashKey, sequenceNumber: '0', data: r.data };
    agg.deaggregateSync(record, true, (err, users) => {
      if (err) {
        fail(err);
      }
      for (const u of users) {
        out.push({ partitionKey: u.partitionKey, explicitHashKey: u.explicitPartitionKey || '', subSequenceNumber: u.subSequenceNumber, data: u.data });
      }
    });
  }
  fs.writeFileSync(outPath, JSON.stringify(out));
} else {
  fail(`unknown mode ${mode}`);
}
