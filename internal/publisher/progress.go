package publisher

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Progress shows how far the batch is: a redrawn bar on a terminal, a
// single summary line otherwise (logs and pipes stay readable).
type Progress struct {
	w        io.Writer
	tty      bool
	total    int64
	start    time.Time
	lastDraw time.Time
}

// NewProgress reports to w; total is the batch's record count.
func NewProgress(w io.Writer, tty bool, total int64) *Progress {
	return &Progress{w: w, tty: tty, total: total, start: time.Now()}
}

// Update redraws the bar at most ten times a second.
func (p *Progress) Update(a Acks) {
	if !p.tty || time.Since(p.lastDraw) < 100*time.Millisecond {
		return
	}
	p.lastDraw = time.Now()
	fmt.Fprintf(p.w, "\r%s", p.line(a, true))
}

// Finish prints the final state on its own line.
func (p *Progress) Finish(a Acks) {
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\n", p.line(a, true))
		return
	}
	fmt.Fprintln(p.w, p.line(a, false))
}

func (p *Progress) line(a Acks, bar bool) string {
	elapsed := time.Since(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(a.Records) / elapsed
	}
	stats := fmt.Sprintf("%d/%d records  %.2f MB  %.0f rec/s  %d retries  %.1fs",
		a.Records, p.total, float64(a.Bytes)/1e6, rate, a.Retries, elapsed)
	if !bar {
		return "sent " + stats
	}
	const width = 30
	done := 0
	if p.total > 0 {
		done = int(a.Records * width / p.total)
	}
	return "[" + strings.Repeat("#", done) + strings.Repeat("-", width-done) + "] " + stats + "  "
}
