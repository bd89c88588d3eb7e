// Package kpl reads and writes the record aggregation format of the Kinesis
// Producer Library (KPL): many user records packed into one Kinesis record.
//
// # Format
//
// An aggregated record is, byte by byte:
//
//	F3 89 9A C2       magic
//	AggregatedRecord  protobuf (proto2), below
//	16 bytes          MD5 of the protobuf bytes
//
//	message AggregatedRecord {
//	  repeated string partition_key_table     = 1;
//	  repeated string explicit_hash_key_table = 2;
//	  repeated Record records                 = 3;
//	}
//	message Record {
//	  required uint64 partition_key_index     = 1;
//	  optional uint64 explicit_hash_key_index = 2;
//	  required bytes  data                    = 3;
//	  repeated Tag    tags                    = 4; // read past, never written
//	}
//
// A user record's sub-sequence number is its index in records: the Kinesis
// Client Library names a user record by (sequence number of the Kinesis
// record, sub-sequence number).
//
// Deaggregate decodes and Aggregator (or Aggregate) encodes; the encoding is
// the KPL's (tables first, then records, in order of first use), so the
// aws-kinesis-agg libraries and the KCL read it, and what they write reads
// back here.
//
// # Hostile input
//
// Deaggregate reads bytes from the network. It allocates at most a constant
// times the size of its input: every table entry and every record costs at
// least two bytes of input, and record data is returned as sub-slices of the
// input, not copied. It never panics; anything that is not a well-formed
// aggregate with a matching MD5 is an error wrapping ErrCorrupt, and the
// caller decides what to do with the record (Kinesis consumers such as the
// KCL, and Spate's Firehose, treat it as one plain record).
//
// The package knows nothing of Kinesis streams or shards: routing user
// records to shards (grouping them by explicit hash key or partition key
// hash) is the producer's job.
package kpl
