// The record browser's reader: GetShardIterator and GetRecords polling on
// one shard or all of them, as a Kinesis consumer reads, until the signal
// aborts. When a shard closes (GetRecords gives no NextShardIterator) it
// goes on with the shard's children from their start, so a reshard while
// the page is open loses nothing and reads nothing twice.
import { ApiError, kinesis } from '../../api.js';

// How long a shard's loop waits between GetRecords: at the tip (nothing
// behind), while catching up (Kinesis allows 5 reads per second per shard),
// and after a throttled read.
const idleMs = 1000;
const busyMs = 250;
const throttledMs = 1500;

// listShards lists every shard of stream (open and closed), following
// NextToken.
export async function listShards(stream, signal) {
  const shards = [];
  let token;
  do {
    const out = await kinesis('ListShards', token ? { NextToken: token } : { StreamName: stream }, signal);
    shards.push(...(out.Shards || []));
    token = out.NextToken;
  } while (token);
  return shards;
}

// startShards is where a read of all shards begins: the shards without a
// listed parent (their history comes first, children follow) from
// TRIM_HORIZON or AT_TIMESTAMP; the open shards from LATEST.
export function startShards(shards, position) {
  const ids = new Set(shards.map((s) => s.ShardId));
  if (position === 'LATEST') return shards.filter((s) => !s.SequenceNumberRange?.EndingSequenceNumber);
  return shards.filter((s) => !ids.has(s.ParentShardId) && !ids.has(s.AdjacentParentShardId));
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

// tail reads stream from position ({type, sequenceNumber?, timestamp?
// (epoch ms)}) on shardId, or on every shard when shardId is empty.
// onRecords(shardId, records) gets each non-empty batch; onState({shards:
// Set of shard ids being read (from their first iterator on), closed: ids
// finished, error}) follows the readers. It resolves when signal aborts.
export async function tail({ stream, shardId, position, onRecords, onState, signal }) {
  const reading = new Set();
  const closed = new Set();
  const started = new Set();
  const report = (error = null) => onState({ shards: new Set(reading), closed: new Set(closed), error });
  const loops = [];

  function iteratorInput(id, pos) {
    const input = { StreamName: stream, ShardId: id, ShardIteratorType: pos.type };
    if (pos.type === 'AT_SEQUENCE_NUMBER' || pos.type === 'AFTER_SEQUENCE_NUMBER') input.StartingSequenceNumber = pos.sequenceNumber;
    if (pos.type === 'AT_TIMESTAMP') input.Timestamp = pos.timestamp / 1000;
    return input;
  }

  function start(id, pos) {
    if (started.has(id) || signal.aborted) return;
    started.add(id);
    loops.push(read(id, pos));
  }

  async function read(id, pos) {
    let last = null; // the last sequence number read: where to resume
    let it = null;
    while (!signal.aborted) {
      try {
        if (!it) {
          const p = last ? { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: last } : pos;
          it = (await kinesis('GetShardIterator', iteratorInput(id, p), signal)).ShardIterator;
          if (!reading.has(id)) {
            // Reading from here on: a LATEST iterator is fixed now.
            reading.add(id);
            report();
          }
        }
        const out = await kinesis('GetRecords', { ShardIterator: it, Limit: 1000 }, signal);
        const recs = out.Records || [];
        if (recs.length) {
          last = recs[recs.length - 1].SequenceNumber;
          onRecords(id, recs);
        }
        it = out.NextShardIterator;
        if (!it) {
          // Closed and read to its end: its children take over.
          reading.delete(id);
          closed.add(id);
          report();
          for (const c of out.ChildShards || []) start(c.ShardId, { type: 'TRIM_HORIZON' });
          return;
        }
        await sleep(recs.length && out.MillisBehindLatest > 0 ? busyMs : idleMs, signal);
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ApiError && error.type === 'ExpiredIteratorException') {
          it = null; // resumes after the last record read
          continue;
        }
        if (error instanceof ApiError && error.type === 'ProvisionedThroughputExceededException') {
          await sleep(throttledMs, signal);
          continue;
        }
        reading.delete(id);
        report(error);
        return;
      }
    }
  }

  try {
    if (shardId) {
      start(shardId, position);
    } else {
      const shards = await listShards(stream, signal);
      for (const s of startShards(shards, position.type)) start(s.ShardId, position);
    }
  } catch (error) {
    if (!signal.aborted) report(error);
    return;
  }
  // Loops are added while others run (children): wait for all of them.
  for (let i = 0; i < loops.length; i++) await loops[i];
}
