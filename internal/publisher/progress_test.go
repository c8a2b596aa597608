package publisher

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a writer the progress goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// take returns what was written since the last take.
func (s *syncBuffer) take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.b.String()
	s.b.Reset()
	return out
}

// startedAgo is a progress whose batch began d ago.
func startedAgo(t *testing.T, w *syncBuffer, tty bool, total int64, d time.Duration) *Progress {
	t.Helper()
	p := NewProgress(w, tty, total)
	t.Cleanup(p.Stop)
	p.mu.Lock()
	p.start = time.Now().Add(-d)
	p.mu.Unlock()
	return p
}

// The line says how far the batch is, how fast it goes and what it waits
// for; the status line (no terminal) names the last error while records
// are missing.
func TestProgressLineShowsCountsRateAndWhatItWaitsFor(t *testing.T) {
	acks := Acks{Records: 50, Bytes: 1_500_000, Retries: 3, LastError: "ProvisionedThroughputExceededException: Rate exceeded"}
	stats := "50/200 records  1.50 MB  5 rec/s  3 retries  10.0s"
	cases := []struct {
		name    string
		bar     bool
		total   int64
		acks    Acks
		waiting string
		want    string
	}{
		{"bar", true, 200, acks, "", "[#######-----------------------] " + stats + "  "},
		{"status line", false, 200, acks, "", "sent " + stats + "  last error: ProvisionedThroughputExceededException: Rate exceeded"},
		{"status line once all arrived", false, 50, acks, "", "sent 50/50 records  1.50 MB  5 rec/s  3 retries  10.0s"},
		{"bar once all arrived", true, 50, acks, "", "[##############################] 50/50 records  1.50 MB  5 rec/s  3 retries  10.0s  "},
		{"bar of an empty batch", true, 0, Acks{}, "", "[------------------------------] 0/0 records  0.00 MB  0 rec/s  0 retries  10.0s  "},
		{"waiting", false, 200, Acks{Records: 50, Bytes: 1_500_000, Retries: 3}, "PutRecords of 150 records",
			"sent " + stats + "  waiting 2s for PutRecords of 150 records"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := startedAgo(t, &syncBuffer{}, c.bar, c.total, 10*time.Second)
			p.mu.Lock()
			defer p.mu.Unlock()
			p.acks = c.acks
			if c.waiting != "" {
				p.waiting, p.waitingSince = c.waiting, time.Now().Add(-2*time.Second)
			}
			if got := p.line(c.bar); got != c.want {
				t.Fatalf("line\n got %q\nwant %q", got, c.want)
			}
		})
	}
}

// On a terminal an acknowledgement redraws the bar in place, at most ten
// times a second; elsewhere it prints nothing between the status lines.
func TestProgressRedrawsTheBarAtMostTenTimesASecond(t *testing.T) {
	var w syncBuffer
	p := startedAgo(t, &w, true, 10, time.Second)
	p.Waiting("PutRecords of 10 records")
	p.Update(Acks{Records: 4})
	if got := w.take(); !strings.HasPrefix(got, "\r[############------------------] 4/10 records") || !strings.HasSuffix(got, "\x1b[K") || strings.Contains(got, "waiting") {
		t.Fatalf("first update drew %q", got)
	}
	p.Update(Acks{Records: 5})
	if got := w.take(); got != "" {
		t.Fatalf("an update right after a draw drew %q", got)
	}
	p.mu.Lock()
	p.lastDraw = time.Now().Add(-150 * time.Millisecond)
	p.mu.Unlock()
	p.Update(Acks{Records: 6})
	if got := w.take(); !strings.Contains(got, "6/10 records") {
		t.Fatalf("an update 150 ms after the last draw drew %q", got)
	}

	var plain syncBuffer
	q := startedAgo(t, &plain, false, 10, time.Second)
	q.Update(Acks{Records: 4})
	if got := plain.take(); got != "" {
		t.Fatalf("without a terminal an update printed %q", got)
	}
}

// A message goes on a line of its own: on a terminal, once a bar is drawn,
// the bar is erased first.
func TestProgressMessagesClearTheBar(t *testing.T) {
	var w syncBuffer
	p := startedAgo(t, &w, true, 10, time.Second)
	p.Printf("sending batch %s\n", "b1")
	if got := w.take(); got != "sending batch b1\n" {
		t.Fatalf("before any bar: %q", got)
	}
	p.Update(Acks{Records: 1})
	w.take()
	p.Printf("sending batch %s\n", "b2")
	if got := w.take(); got != "\r\x1b[Ksending batch b2\n" {
		t.Fatalf("after a bar: %q", got)
	}

	var plain syncBuffer
	q := startedAgo(t, &plain, false, 10, time.Second)
	q.Update(Acks{Records: 1})
	q.Printf("done\n")
	if got := plain.take(); got != "done\n" {
		t.Fatalf("without a terminal: %q", got)
	}
}

// Finish prints the final state once, on its own line, and nothing after.
func TestProgressFinishEndsTheLine(t *testing.T) {
	for _, tty := range []bool{true, false} {
		var w syncBuffer
		p := startedAgo(t, &w, tty, 10, time.Second)
		p.Waiting("PutRecords of 10 records")
		p.Finish(Acks{Records: 10, Bytes: 2000})
		got := w.take()
		want := "sent 10/10 records"
		if tty {
			want = "\r[##############################] 10/10 records"
		}
		if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "\n") || strings.Count(got, "\n") != 1 || strings.Contains(got, "waiting") {
			t.Errorf("tty %v: finish printed %q", tty, got)
		}
		p.Stop()
		if got := w.take(); got != "" {
			t.Errorf("tty %v: printed %q after Finish", tty, got)
		}
	}
}

// testClock is a clock that moves only when the test moves it. Progress
// reads its clock with p.mu held, so the test moves it with p.mu held too.
type testClock struct{ at time.Time }

func (c *testClock) now() time.Time { return c.at }

// onTestClock is a progress that reads c instead of the time; its batch
// begins at c's current time.
func onTestClock(t *testing.T, w *syncBuffer, tty bool, total int64) (*Progress, func(time.Duration)) {
	t.Helper()
	p := NewProgress(w, tty, total)
	t.Cleanup(p.Stop)
	c := &testClock{at: time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)}
	p.mu.Lock()
	p.now, p.start = c.now, c.at
	p.mu.Unlock()
	advance := func(d time.Duration) {
		p.mu.Lock()
		c.at = c.at.Add(d)
		p.mu.Unlock()
	}
	return p, advance
}

// The bar is redrawn once a tenth of a second has passed since the last
// draw, and not a nanosecond before.
func TestProgressRedrawsTheBarOnceATenthOfASecondHasPassed(t *testing.T) {
	var w syncBuffer
	p, advance := onTestClock(t, &w, true, 10)
	p.Update(Acks{Records: 1})
	if got := w.take(); !strings.Contains(got, "1/10 records") {
		t.Fatalf("first update drew %q", got)
	}
	advance(100*time.Millisecond - time.Nanosecond)
	p.Update(Acks{Records: 2})
	if got := w.take(); got != "" {
		t.Fatalf("an update a nanosecond short of 100 ms after the last draw drew %q", got)
	}
	advance(time.Nanosecond)
	p.Update(Acks{Records: 3})
	if got := w.take(); !strings.Contains(got, "3/10 records") {
		t.Fatalf("an update 100 ms after the last draw drew %q", got)
	}
}

// At the instant the batch begins no time has passed: the rate is zero, not
// a division by zero; later it is records per elapsed second.
func TestProgressRateAtTheFirstInstantIsZero(t *testing.T) {
	p, advance := onTestClock(t, &syncBuffer{}, false, 10)
	line := func(a Acks) string {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.acks = a
		return p.line(false)
	}
	if got, want := line(Acks{Records: 3}), "sent 3/10 records  0.00 MB  0 rec/s  0 retries  0.0s"; got != want {
		t.Fatalf("line at the first instant\n got %q\nwant %q", got, want)
	}
	advance(2 * time.Second)
	if got, want := line(Acks{Records: 10}), "sent 10/10 records  0.00 MB  5 rec/s  0 retries  2.0s"; got != want {
		t.Fatalf("line after 2 s\n got %q\nwant %q", got, want)
	}
}
