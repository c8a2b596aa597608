package reconcile_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/orders-pipeline/orders-pipeline/internal/audit"
	"github.com/orders-pipeline/orders-pipeline/lambdas/auditscanner/reconcile"
	rt "github.com/orders-pipeline/orders-pipeline/lambdas/auditscanner/reconcile/reconciletest"
)

// shard delivers stream records to the scanner the way Lambda does with
// ReportBatchItemFailures: batches of up to size records from the
// checkpoint, in order; a batch with reported failures again from the
// lowest reported sequence number. After the n-th batch succeeds,
// rewind(n) records before its end are delivered again: the batch itself
// after an invocation that did its work but timed out before answering,
// older ones after a mapping is created again from the stream's start.
// A record reported giveUp times in a row is given up, as Lambda's bounded
// retries with bisection end by sending it to the on-failure queue.
func shard(t *testing.T, s reconcile.Scanner, recs []events.DynamoDBEventRecord, size int, rewind func(call int) int) {
	t.Helper()
	const giveUp = 10
	pos, tries := 0, 0
	for call := 0; pos < len(recs); call++ {
		if call > 100*len(recs) {
			t.Fatalf("the shard never got past record %d", pos)
		}
		end := min(pos+size, len(recs))
		resp := s.Handle(context.Background(), events.DynamoDBEvent{Records: recs[pos:end]})
		if len(resp.BatchItemFailures) == 0 {
			pos, tries = max(0, end-rewind(call)), 0
			continue
		}
		lowest := -1
		for _, f := range resp.BatchItemFailures {
			i := slices.IndexFunc(recs, func(r events.DynamoDBEventRecord) bool { return r.Change.SequenceNumber == f.ItemIdentifier })
			if i < pos || i >= end {
				t.Fatalf("reported sequence number %q is not in the batch", f.ItemIdentifier)
			}
			if lowest < 0 || i < lowest {
				lowest = i
			}
		}
		if lowest == pos {
			tries++
		} else {
			pos, tries = lowest, 1
		}
		if tries == giveUp {
			pos, tries = pos+1, 0
		}
	}
}

var layerCount = regexp.MustCompile(`(?m)^Layer count: +(\d+)$`)

// notified is every count notified for run, per layer, in the order the
// notifications arrived.
func notified(t *testing.T, e *rt.Env, run string) map[audit.Layer][]int64 {
	t.Helper()
	got := map[audit.Layer][]int64{}
	for _, m := range e.Inbox.Messages() {
		if m.MessageAttributes["run_id"].Value != run {
			continue
		}
		c := layerCount.FindStringSubmatch(m.Message)
		if c == nil {
			t.Fatalf("notification without a layer count:\n%s", m.Message)
		}
		n, _ := strconv.ParseInt(c[1], 10, 64)
		layer := audit.Layer(m.MessageAttributes["layer"].Value)
		got[layer] = append(got[layer], n)
	}
	return got
}

type write struct {
	layer audit.Layer
	count int64
	// malformed writes a record the scanner cannot read (no new image).
	malformed bool
}

// stream writes the items and returns the stream records of the writes,
// sequence numbers from first on.
func stream(t *testing.T, e *rt.Env, run string, first int, writes []write) []events.DynamoDBEventRecord {
	t.Helper()
	var recs []events.DynamoDBEventRecord
	for i, w := range writes {
		item := rt.AuditItem(run, w.layer, w.count)
		e.Put(t, item)
		rec := rt.Record(t, "MODIFY", strconv.Itoa(first+i), item)
		if w.malformed {
			rec.Change.NewImage = nil
		}
		recs = append(recs, rec)
	}
	return recs
}

// inOrder is what a subscriber must receive: each layer's counts in stream
// order, a count written twice in a row notified once.
func inOrder(writes []write) map[audit.Layer][]int64 {
	want := map[audit.Layer][]int64{}
	for _, w := range writes {
		if w.malformed {
			continue
		}
		if l := want[w.layer]; len(l) == 0 || l[len(l)-1] != w.count {
			want[w.layer] = append(want[w.layer], w.count)
		}
	}
	return want
}

func sameNotifications(got, want map[audit.Layer][]int64) bool {
	if len(got) != len(want) {
		return false
	}
	for l, w := range want {
		if !slices.Equal(got[l], w) {
			return false
		}
	}
	return true
}

func countIs(n int64) func(rt.Publish) bool {
	return func(p rt.Publish) bool { return strings.Contains(p.Message, fmt.Sprintf("Layer count:   %d\n", n)) }
}

// The cases black-box testing found and their relatives: whatever fails
// transiently and whatever Lambda delivers again, one item's counts reach
// the subscriber in stream order, each once.
func TestOneItemsCountsAreNotifiedInStreamOrder(t *testing.T) {
	e := rt.Start(t)
	var log bytes.Buffer
	s := scanner(e, rt.FailureTopic, &log)
	never := func(int) int { return 0 }
	at := func(call, records int) func(int) int {
		return func(c int) int {
			if c == call {
				return records
			}
			return 0
		}
	}
	cases := []struct {
		name   string
		writes []write
		size   int
		// fail picks the publishes that fail the first time they are sent.
		fail   func(rt.Publish) bool
		rewind func(call int) int
	}{
		{"older count fails once", []write{{audit.S3Staging, 9, false}, {audit.S3Staging, 10, false}}, 10, countIs(9), never},
		{"batch redelivered after success", []write{{audit.S3Staging, 9, false}, {audit.S3Staging, 10, false}}, 10, nil, at(0, 2)},
		{"older batch redelivered after a newer one", []write{{audit.S3Staging, 9, false}, {audit.S3Staging, 10, false}}, 1, nil, at(1, 2)},
		{"whole stream again", []write{{audit.S3Staging, 9, false}, {audit.RedshiftFinal, 10, false}, {audit.S3Staging, 10, false}, {audit.S3Staging, 9, false}}, 2, nil, at(1, 4)},
		{"count goes back, middle one fails", []write{{audit.S3Staging, 9, false}, {audit.S3Staging, 10, false}, {audit.S3Staging, 9, false}}, 10, countIs(10), never},
		{"other layer fails between", []write{{audit.S3Staging, 9, false}, {audit.RedshiftFinal, 8, false}, {audit.S3Staging, 10, false}}, 10, countIs(8), never},
		{"same count twice", []write{{audit.S3Staging, 10, false}, {audit.S3Staging, 10, false}}, 10, nil, at(0, 2)},
		{"malformed record between", []write{{audit.S3Staging, 9, false}, {audit.S3Staging, 0, true}, {audit.S3Staging, 10, false}}, 10, nil, never},
		{"malformed record, then a failure", []write{{audit.S3Staging, 0, true}, {audit.S3Staging, 9, false}, {audit.S3Staging, 10, false}}, 10, countIs(9), never},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			log.Reset()
			run := fmt.Sprintf("run-order-%d", i)
			e.Put(t, rt.AuditItem(run, audit.S3Landing, 10))
			recs := stream(t, e, run, 1000*(i+1), c.writes)
			failed := map[string]bool{}
			e.Faults.Fail(func(p rt.Publish) bool {
				if c.fail == nil || !c.fail(p) || failed[p.Message] {
					return false
				}
				failed[p.Message] = true
				return true
			})
			defer e.Faults.Fail(nil)
			shard(t, s, recs, c.size, c.rewind)
			if c.fail != nil && len(failed) == 0 {
				t.Fatal("no publish failed: the case tests nothing")
			}
			if got, want := notified(t, e, run), inOrder(c.writes); !sameNotifications(got, want) {
				t.Fatalf("notified %v, want %v; log:\n%s", got, want, &log)
			}
		})
	}
}

// The same property over random streams: two layers, counts that go up and
// back, malformed records, random batch sizes, publishes that fail at random
// and batches that are delivered again, from the batch itself or further
// back.
func TestRandomFailuresAndRedeliveriesKeepStreamOrder(t *testing.T) {
	e := rt.Start(t)
	var log bytes.Buffer
	s := scanner(e, rt.FailureTopic, &log)
	r := rand.New(rand.NewPCG(11, 15))
	// The proxy calls Fail under its own lock, on its own goroutine.
	pr := rand.New(rand.NewPCG(15, 11))
	e.Faults.Fail(func(rt.Publish) bool { return pr.IntN(3) == 0 })
	for round := 0; round < 12; round++ {
		log.Reset()
		run := fmt.Sprintf("run-random-%d", round)
		e.Put(t, rt.AuditItem(run, audit.S3Landing, 10))
		var writes []write
		for range 3 + r.IntN(6) {
			layer := []audit.Layer{audit.S3Staging, audit.RedshiftFinal}[r.IntN(2)]
			writes = append(writes, write{layer, int64(8 + r.IntN(3)), r.IntN(8) == 0})
		}
		recs := stream(t, e, run, 100_000*(round+1), writes)
		shard(t, s, recs, 1+r.IntN(4), func(int) int {
			if r.IntN(4) == 0 {
				return r.IntN(len(recs) + 1)
			}
			return 0
		})
		if got, want := notified(t, e, run), inOrder(writes); !sameNotifications(got, want) {
			t.Fatalf("round %d: writes %v notified %v, want %v; log:\n%s", round, writes, got, want, &log)
		}
	}
}
