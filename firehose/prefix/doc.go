// Package prefix evaluates Firehose custom S3 prefixes and extracts the
// partition keys that dynamic partitioning puts in them.
//
// It owns the !{namespace:value} expression language of Prefix and
// ErrorOutputPrefix (Compile, CompileErrorOutput, Template.Render), the
// default time prefix (DefaultPrefix), and the MetadataExtraction processor's
// JQ query (Extractor). It does not know delivery streams, batches or S3: the
// firehose core compiles the templates once per destination, extracts keys
// per record, groups records by rendered prefix and writes the objects.
//
// Invariant: rendering is a pure function of the Template and the Input, and
// extraction a pure function of the query and the record (no clock, no
// environment, no randomness), so a re-delivered batch gets the same object
// keys.
//
// # Expressions
//
// As documented in "Custom Prefixes for Amazon S3 Objects"
// (https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html):
//
//	!{timestamp:PATTERN}          arrival time of the object's oldest record, Java
//	                              DateTimeFormatter letters y M d H m s, 'quoted text'
//	!{partitionKeyFromQuery:NAME} key NAME from the MetadataExtraction query
//	!{partitionKeyFromLambda:NAME} key NAME from the Lambda processor's
//	                              metadata.partitionKeys (Input.LambdaKeys)
//	!{firehose:random-string}     11 characters, supplied by the caller (Input.RandomString)
//	!{firehose:error-output-type} why the record failed (ErrorOutputPrefix only)
//
// '{' and '}' may appear only as part of an expression, and an expression
// ends at the first '}'.
//
// # Field rules
//
// Compile and CompileErrorOutput apply the guide's semantic rules: an empty
// Prefix is YYYY/MM/dd/HH/; a Prefix without timestamp or partition key
// expressions gets !{timestamp:yyyy/MM/dd/HH/} appended (no separator); an
// empty ErrorOutputPrefix is allowed only when Prefix has no expressions and
// is then <Prefix><error-output-type>/YYYY/MM/dd/HH/; an ErrorOutputPrefix
// with expressions must contain !{firehose:error-output-type}; a Prefix must
// not; either may be at most 512 characters once evaluated.
//
// # Extraction failures
//
// Per "Dynamic Partitioning Error Handling" (dynamic-partitioning.html), a
// record that is not JSON, or whose keys cannot be extracted, or whose prefix
// cannot be evaluated, is delivered under ErrorOutputPrefix. Firehose reports
// such records with error code DynamicPartitioning.MetadataExtractionFailed.
// The guide's list of error-output-type values (processing-failed,
// elasticsearch-failed, splunk-failed, format-conversion-failed) has no entry
// for them; deployments of real Firehose observe them under
// "metadata-extraction-failed", which is MetadataExtractionFailed here.
//
// The query's output must be one object of strings, numbers and booleans. A
// missing field gives null, which is an error: Firehose cannot build the
// prefix of such a record either.
package prefix
