// Package audit is the contract of the audit table `orders-audit-table`:
// one item per run id and layer with the record count that layer holds for
// the run. The Glue audit jobs write these items (glue-scripts/common),
// AuditTableScannerFn reads them.
package audit

import "github.com/orders-pipeline/orders-pipeline/internal/contract"

var item = contract.Get().AuditItem

// Key and attribute names of an audit item (internal/contract/contract.json).
var (
	RunIDKey        = item.PartitionKey              // partition key (S)
	LayerKey        = item.SortKey                   // sort key (S): one of the Layer values
	RecordCountAttr = item.Attribute("record_count") // N: exploded products in that layer for the run
	JobNameAttr     = item.Attribute("job_name")     // S: Glue job that wrote the count
	JobRunIDAttr    = item.Attribute("job_run_id")   // S: its job run id
	RecordedAtAttr  = item.Attribute("recorded_at")  // S: RFC 3339 UTC time of the write
)

// Layer is one stage of the pipeline that is counted per run id.
type Layer string

// The four counted layers. Landing is the reference the others are compared with.
var (
	S3Landing       = Layer(item.Layer("s3_landing"))
	S3Staging       = Layer(item.Layer("s3_staging"))
	RedshiftStaging = Layer(item.Layer("redshift_staging"))
	RedshiftFinal   = Layer(item.Layer("redshift_final"))
)

// ComparedLayers are compared with the landing count when written.
var ComparedLayers = layers(item.LayersWithRole("compared"))

func layers(names []string) []Layer {
	out := make([]Layer, len(names))
	for i, n := range names {
		out[i] = Layer(n)
	}
	return out
}

// NotificationPrefix marks the scanner's own items (sort key
// "notified#<layer>"), which remember the last count it notified about so a
// redelivered stream record does not notify twice. The stream's event filter
// passes only the ComparedLayers, so these items never reach the scanner.
var NotificationPrefix = item.NotificationPrefix
