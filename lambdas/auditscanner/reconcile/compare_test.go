package reconcile_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/orders-pipeline/orders-pipeline/internal/audit"
	"github.com/orders-pipeline/orders-pipeline/internal/runstate"
	"github.com/orders-pipeline/orders-pipeline/lambdas/auditscanner/reconcile"
)

// runIDOf builds a run id of runstate's format from any two numbers, so the
// fuzzer explores the whole format: every second of years 0000–9999 and
// every random suffix.
func runIDOf(t *testing.T, seconds int64, random uint32) string {
	t.Helper()
	lo := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	span := uint64(hi - lo + 1)
	at := time.Unix(lo+int64(uint64(seconds)%span), 0).UTC()
	id := fmt.Sprintf("%s-%08x", at.Format("20060102T150405Z"), random)
	if !runstate.ValidRunID(id) {
		t.Fatalf("test generator made %q, not a run id", id)
	}
	return id
}

// checkSubject is the property every subject must have: SNS accepts it
// (fewer than 100 characters, printable ASCII) and a reader can tell which
// outcome, run and layer it is about without opening the message.
func checkSubject(t *testing.T, r reconcile.Result) {
	t.Helper()
	s := r.Subject()
	if len(s) >= 100 {
		t.Errorf("subject %q has %d characters; SNS takes fewer than 100", s, len(s))
	}
	for _, c := range []byte(s) {
		if c < ' ' || c > '~' {
			t.Errorf("subject %q has byte %#x, not printable ASCII", s, c)
		}
	}
	for _, part := range []string{string(r.Outcome) + " ", r.RunID, string(r.Layer)} {
		if !strings.Contains(s, part) {
			t.Errorf("subject %q lacks %q", s, part)
		}
	}
	if !strings.HasPrefix(s, string(r.Outcome)) {
		t.Errorf("subject %q does not start with the outcome", s)
	}
}

func FuzzSubject(f *testing.F) {
	f.Add(int64(1795000000), uint32(0x0a1b2c3d), int64(1234), int64(1234), true, uint8(0))
	f.Add(int64(-1), uint32(math.MaxUint32), int64(math.MaxInt64), int64(0), true, uint8(1))
	f.Add(int64(math.MaxInt64), uint32(0), int64(0), int64(math.MaxInt64), true, uint8(2))
	f.Add(int64(0), uint32(1), int64(math.MaxInt64), int64(math.MaxInt64-1), false, uint8(1))
	f.Fuzz(func(t *testing.T, seconds int64, random uint32, count, landing int64, found bool, layer uint8) {
		// Audit counts are non-negative: ParseRecord refuses the rest.
		if count < 0 {
			count = -(count + 1)
		}
		if landing < 0 {
			landing = -(landing + 1)
		}
		w := reconcile.Write{
			RunID: runIDOf(t, seconds, random),
			Layer: audit.ComparedLayers[int(layer)%len(audit.ComparedLayers)],
			Count: count,
		}
		checkSubject(t, reconcile.Compare(w, landing, found))
	})
}

// The longest subjects there are: every layer, every outcome, the largest
// counts and the longest differences.
func TestSubjectKeepsRunAndLayerAtTheLargestCounts(t *testing.T) {
	id := runIDOf(t, 1795000000, 0xffffffff)
	for _, layer := range audit.ComparedLayers {
		w := reconcile.Write{RunID: id, Layer: layer, Count: math.MaxInt64}
		for _, r := range []reconcile.Result{
			reconcile.Compare(w, math.MaxInt64, true),
			reconcile.Compare(w, 0, true),
			reconcile.Compare(reconcile.Write{RunID: id, Layer: layer}, math.MaxInt64, true),
			reconcile.Compare(w, 0, false),
		} {
			checkSubject(t, r)
		}
	}
}

func TestSubjects(t *testing.T) {
	const id = "20261128T010000Z-3f9c0a1b"
	w := reconcile.Write{RunID: id, Layer: audit.RedshiftFinal, Count: 1200}
	for _, c := range []struct {
		r    reconcile.Result
		want string
	}{
		{reconcile.Compare(w, 1200, true), "SUCCESS run " + id + " redshift_final: 1200 = landing"},
		{reconcile.Compare(w, 1234, true), "FAILURE run " + id + " redshift_final: 1200 vs landing 1234 (-34)"},
		{reconcile.Compare(w, 1000, true), "FAILURE run " + id + " redshift_final: 1200 vs landing 1000 (+200)"},
		{reconcile.Compare(w, 0, false), "FAILURE run " + id + " redshift_final: 1200, no landing count"},
	} {
		if got := c.r.Subject(); got != c.want {
			t.Errorf("subject %q, want %q", got, c.want)
		}
	}
	// Whatever an audit job wrote as run id, SNS must accept the subject;
	// printable ASCII is kept, from space to tilde.
	bad := reconcile.Compare(reconcile.Write{RunID: "run\nwith é ~!\x7f", Layer: audit.S3Staging, Count: 1}, 1, true)
	if got := bad.Subject(); got != "SUCCESS run run?with ?? ~!? s3_staging: 1 = landing" {
		t.Errorf("subject of an odd run id: %q", got)
	}
	// A subject of 99 characters is whole; one more is cut to 99.
	for _, c := range []struct{ count, want int64 }{{1, 99}, {10, 99}} {
		head := len("SUCCESS run  s3_staging: 1 = landing")
		w := reconcile.Write{RunID: strings.Repeat("r", 99-head), Layer: audit.S3Staging, Count: c.count}
		got := reconcile.Compare(w, c.count, true).Subject()
		cut := strings.HasSuffix(got, "...")
		if int64(len(got)) != c.want || cut != (c.count == 10) {
			t.Errorf("count %d: subject %q (%d characters)", c.count, got, len(got))
		}
	}
}

// A FAILURE says which way the counts differ and which job to look at.
func TestFailureMessagesPointAtTheLayersJob(t *testing.T) {
	for _, c := range []struct {
		layer          audit.Layer
		count, landing int64
		want           []string
	}{
		{audit.S3Staging, 1200, 1000, []string{"Difference:    +200", "\n- the S3 staging area holds 200 records more than the landing area", "landing-to-staging job"}},
		{audit.RedshiftStaging, 990, 1000, []string{"Difference:    -10", "\n- 10 records of the landing area did not reach the Redshift staging area", "S3-staging-to-Redshift job"}},
		{audit.RedshiftFinal, 1001, 1000, []string{"\n- the Redshift final area holds 1 records more", "staging-to-final job"}},
	} {
		m := reconcile.Compare(reconcile.Write{RunID: "20261128T010000Z-3f9c0a1b", Layer: c.layer, Count: c.count}, c.landing, true).Message()
		for _, w := range c.want {
			if !strings.Contains(m, w) {
				t.Errorf("%s message lacks %q:\n%s", c.layer, w, m)
			}
		}
	}
	ok := reconcile.Compare(reconcile.Write{RunID: "r", Layer: audit.S3Staging, Count: 5}, 5, true).Message()
	if strings.Contains(ok, "What to check") {
		t.Errorf("a SUCCESS lists things to check:\n%s", ok)
	}
}
