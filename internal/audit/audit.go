// Package audit is the contract of the audit table `orders-audit-table`:
// one item per run id and layer with the record count that layer holds for
// the run. The Glue audit jobs write these items (glue-scripts/common),
// AuditTableScannerFn reads them.
package audit

// Key and attribute names of an audit item.
const (
	RunIDKey        = "run_id"       // partition key (S)
	LayerKey        = "layer"        // sort key (S): one of the Layer values
	RecordCountAttr = "record_count" // N: exploded products in that layer for the run
	JobNameAttr     = "job_name"     // S: Glue job that wrote the count
	JobRunIDAttr    = "job_run_id"   // S: its job run id
	RecordedAtAttr  = "recorded_at"  // S: RFC 3339 UTC time of the write
)

// Layer is one stage of the pipeline that is counted per run id.
type Layer string

// The four counted layers. Landing is the reference the others are compared with.
const (
	S3Landing       Layer = "s3_landing"
	S3Staging       Layer = "s3_staging"
	RedshiftStaging Layer = "redshift_staging"
	RedshiftFinal   Layer = "redshift_final"
)

// ComparedLayers are compared with the landing count when written.
var ComparedLayers = []Layer{S3Staging, RedshiftStaging, RedshiftFinal}

// NotificationPrefix marks the scanner's own items (sort key
// "notified#<layer>"), which remember the last count it notified about so a
// redelivered stream record does not notify twice. The stream's event filter
// passes only the ComparedLayers, so these items never reach the scanner.
const NotificationPrefix = "notified#"
