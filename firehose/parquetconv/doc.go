// Package parquetconv converts a batch of JSON records to one Parquet file,
// as Firehose's record format conversion does (DataFormatConversionConfiguration
// with OpenXJsonSerDe in and ParquetSerDe out).
//
// It owns the table schema (Column, ParseColumns), the JSON-to-column
// conversion rules and the Parquet encoding. It does not know delivery
// streams, error prefixes or S3: the firehose core converts each batch,
// writes the file, and routes the records in RecordError to ErrorOutputPrefix
// with error-output-type format-conversion-failed.
//
// Invariant: Convert's output is a pure function of the schema, the options
// and the records: the same batch always gives the same bytes, so a
// re-delivered batch rewrites an identical object. (The writer's created_by
// is a fixed string, and no time or random value is written.)
//
// # The schema, without Glue
//
// Firehose reads the schema from an AWS Glue table named by
// SchemaConfiguration (CatalogId, DatabaseName, TableName, Region,
// VersionId, RoleARN). Spate has no Glue catalogue; the schema is given
// inline, in either form ParseColumns accepts (the compact
// "name:string,age:int,ts:timestamp" or Glue's Column list as JSON,
// [{"Name":"name","Type":"string"}]). Proposal for the API layer:
//
//   - A Spate extension member SchemaConfiguration.Columns (a string in
//     either form), for clients that build the JSON themselves (the spate
//     CLI, the gRPC API, curl).
//   - For unmodified AWS SDKs and the AWS CLI, which only send modelled
//     members: DatabaseName "spate-inline" and TableName holding the compact
//     form. TableName is NonEmptyStringWithoutWhitespace (at most 1024
//     characters, no whitespace), which the compact form satisfies.
//
// Columns wins when both are given; any other DatabaseName is rejected with
// InvalidArgumentException ("Glue catalogues are not supported; use
// DatabaseName spate-inline"). RoleARN, CatalogId, Region and VersionId are
// accepted and ignored.
//
// # Conversion rules
//
// Following OpenX JSON SerDe (record-format-conversion.html, "Choosing the
// JSON Deserializer", and the SerDe's own parsing rules):
//
//   - keys match column names case-insensitively (OpenXJsonSerDe.CaseInsensitive,
//     default true); ConvertDotsInJsonKeysToUnderscores and
//     ColumnToJsonKeyMappings (top-level columns) are honoured;
//   - a missing key or a JSON null is a null; keys without a column are ignored;
//   - numeric columns take numbers or numeric strings; integer columns take
//     0x-prefixed hexadecimal and truncate fractions toward zero;
//   - string columns take any value; numbers and booleans as written, objects
//     and arrays as compact JSON;
//   - timestamp columns take yyyy-MM-dd'T'HH:mm:ss[.f](Z|±hh:mm) and
//     yyyy-[M]M-[d]d HH:mm:ss[.f] (UTC when no zone), epoch seconds (an integer
//     of up to 12 characters, or any number with a fraction) and epoch
//     milliseconds (an integer of 13 or more characters);
//   - date columns take yyyy-[M]M-[d]d; decimal(p,s) rounds half away from zero
//     to s places.
//
// Where OpenX silently stores 0 or null (a non-numeric string in an int
// column, a decimal that overflows its precision), the record fails instead:
// the guide says a record that does not match the schema goes to the error
// prefix (record-format-conversion.html, "Record Format Conversion Error
// Handling").
//
// # Parquet encoding
//
// Every column is optional. string, varchar and char are UTF8 byte arrays;
// tinyint, smallint and int are INT32 with INT(8/16/32) annotations; bigint is
// INT64; float and double are FLOAT and DOUBLE; timestamp is INT64
// TIMESTAMP(MILLIS, UTC); date is INT32 DATE; decimal(p,s) is INT32 (p ≤ 9),
// INT64 (p ≤ 18) or a FIXED_LEN_BYTE_ARRAY; array<T> is a three-level LIST;
// struct<...> is a group. Columns appear in the declared order. Compression is
// ParquetSerDe.Compression (SNAPPY by default, GZIP, UNCOMPRESSED).
package parquetconv
