package reconcile

import (
	"fmt"
	"strings"

	"github.com/orders-pipeline/orders-pipeline/internal/audit"
)

// Outcome of one comparison.
type Outcome string

const (
	Success Outcome = "SUCCESS"
	Failure Outcome = "FAILURE"
)

// Result compares one layer's count with the landing count of its run.
type Result struct {
	Write
	// Landing is the S3 landing count; LandingFound is false when the
	// landing audit job has not recorded the run.
	Landing      int64
	LandingFound bool
	Outcome      Outcome
}

// Compare decides the outcome: SUCCESS only when the landing count exists
// and equals the layer's count.
func Compare(w Write, landing int64, landingFound bool) Result {
	r := Result{Write: w, Landing: landing, LandingFound: landingFound, Outcome: Failure}
	if landingFound && landing == w.Count {
		r.Outcome = Success
	}
	return r
}

// Difference is the layer count minus the landing count.
func (r Result) Difference() int64 { return r.Count - r.Landing }

var layerNames = map[audit.Layer]string{
	audit.S3Landing:       "S3 landing area",
	audit.S3Staging:       "S3 staging area",
	audit.RedshiftStaging: "Redshift staging area",
	audit.RedshiftFinal:   "Redshift final area",
}

// SNS takes subjects of fewer than 100 characters, ASCII without control
// characters.
const maxSubject = 99

// Subject is the email subject line. Outcome, run id and layer come first
// so that a cut for length, or a mail client's, only ever loses counts,
// which the body repeats.
func (r Result) Subject() string {
	head := fmt.Sprintf("%s run %s %s: ", r.Outcome, r.RunID, r.Layer)
	var tail string
	switch {
	case r.Outcome == Success:
		tail = fmt.Sprintf("%d = landing", r.Count)
	case !r.LandingFound:
		tail = fmt.Sprintf("%d, no landing count", r.Count)
	default:
		tail = fmt.Sprintf("%d vs landing %d (%+d)", r.Count, r.Landing, r.Difference())
	}
	s := []byte(head + tail)
	for i, c := range s {
		// The run id and layer come from the audit item; whatever an audit
		// job wrote there must not make SNS refuse the notification.
		if c < ' ' || c > '~' {
			s[i] = '?'
		}
	}
	if len(s) > maxSubject {
		s = append(s[:maxSubject-3], "..."...)
	}
	return string(s)
}

// Message is the email body: everything a person needs to act on it.
func (r Result) Message() string {
	var b strings.Builder
	switch {
	case r.Outcome == Success:
		fmt.Fprintf(&b, "SUCCESS: the %s holds the same number of records as the S3 landing area for run %s.\n\n", layerNames[r.Layer], r.RunID)
	case !r.LandingFound:
		fmt.Fprintf(&b, "FAILURE: the %s recorded a count for run %s, but the S3 landing area has no count for that run.\n\n", layerNames[r.Layer], r.RunID)
	default:
		fmt.Fprintf(&b, "FAILURE: the %s does not hold the same number of records as the S3 landing area for run %s.\n\n", layerNames[r.Layer], r.RunID)
	}
	fmt.Fprintf(&b, "Run id:        %s\n", r.RunID)
	fmt.Fprintf(&b, "Layer:         %s (%s)\n", layerNames[r.Layer], r.Layer)
	fmt.Fprintf(&b, "Layer count:   %d\n", r.Count)
	if r.LandingFound {
		fmt.Fprintf(&b, "Landing count: %d\n", r.Landing)
		fmt.Fprintf(&b, "Difference:    %+d (layer minus landing)\n", r.Difference())
	} else {
		fmt.Fprintf(&b, "Landing count: missing\n")
	}
	fmt.Fprintf(&b, "Counted by:    %s, job run %s, at %s\n", orUnknown(r.JobName), orUnknown(r.JobRunID), orUnknown(r.RecordedAt))
	if r.Outcome == Failure {
		b.WriteString("\nWhat to check:\n")
		for _, hint := range r.hints() {
			b.WriteString("- " + hint + "\n")
		}
	}
	b.WriteString("\nCounts are exploded product counts (one per product of each order). A count that changes later is compared again and notified again.\n")
	return b.String()
}

func (r Result) hints() []string {
	if !r.LandingFound {
		return []string{
			"the landing audit job's last run: it records the landing count per run id from the landing crawler's table",
			"that the landing crawler ran after Firehose delivered this run's objects (the run's partitions must be in the catalog)",
			fmt.Sprintf("the audit table item run_id=%s, layer=%s", r.RunID, audit.S3Landing),
		}
	}
	var h []string
	if r.Difference() < 0 {
		h = append(h, fmt.Sprintf("%d records of the landing area did not reach the %s", -r.Difference(), layerNames[r.Layer]))
	} else {
		h = append(h, fmt.Sprintf("the %s holds %d records more than the landing area: a job may have loaded some twice (job bookmark reset or re-run)", layerNames[r.Layer], r.Difference()))
	}
	switch r.Layer {
	case audit.S3Staging:
		h = append(h, "the landing-to-staging job run and its bookmark, and that the staging crawler ran after it")
	case audit.RedshiftStaging:
		h = append(h, "the S3-staging-to-Redshift job run and its bookmark, and the Redshift staging table's rows for this run id")
	case audit.RedshiftFinal:
		h = append(h, "the Redshift staging-to-final job run and the final table's rows for this run id")
	}
	h = append(h, "late data: if Firehose delivered more records for this run after the landing count was taken, the layers catch up on the next workflow run and are compared again")
	return h
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
