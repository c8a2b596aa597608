package publisher

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// StatusEvery is how often the command shows it is alive: a status line
// when stderr is not a terminal, a redrawn bar when it is. A user who sees
// nothing for the length of --retry-for cannot tell a slow stream from a
// hung command.
const StatusEvery = 3 * time.Second

// Progress shows how far the batch is: a redrawn bar on a terminal, a
// status line every StatusEvery and a summary line otherwise (logs and
// pipes stay readable). It is safe for concurrent use.
type Progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	total    int64
	start    time.Time
	lastDraw time.Time
	acks     Acks
	// waiting names the call the command is waiting for, if any.
	waiting      string
	waitingSince time.Time
	stop, done   chan struct{}
	// now is the clock, time.Now outside tests.
	now func() time.Time
}

// NewProgress reports to w; total is the batch's record count. It reports
// every StatusEvery until Finish or Stop.
func NewProgress(w io.Writer, tty bool, total int64) *Progress {
	p := &Progress{w: w, tty: tty, total: total, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{}), now: time.Now}
	go p.beat()
	return p
}

func (p *Progress) beat() {
	defer close(p.done)
	tick := time.NewTicker(StatusEvery)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
			p.mu.Lock()
			p.draw()
			p.mu.Unlock()
		}
	}
}

// draw shows the current state; p.mu is held.
func (p *Progress) draw() {
	p.lastDraw = p.now()
	if p.tty {
		// Erase to the end of the line: a redrawn line can be shorter.
		fmt.Fprintf(p.w, "\r%s\x1b[K", p.line(true))
		return
	}
	fmt.Fprintln(p.w, p.line(false))
}

// Printf prints a message on its own line, after the bar's if there is one.
func (p *Progress) Printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && !p.lastDraw.IsZero() {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	fmt.Fprintf(p.w, format, args...)
}

// Update records the acknowledgements after a call and redraws the bar at
// most ten times a second.
func (p *Progress) Update(a Acks) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.acks = a
	p.waiting = ""
	if p.tty && p.now().Sub(p.lastDraw) >= 100*time.Millisecond {
		p.draw()
	}
}

// Waiting names the call the command now waits for; "" when none.
func (p *Progress) Waiting(call string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waiting, p.waitingSince = call, p.now()
}

// Stop ends the periodic reports; it returns once none can be printed any
// more, so the caller's next line comes after the last of them.
func (p *Progress) Stop() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}

// Finish stops the reports and prints the final state on its own line.
func (p *Progress) Finish(a Acks) {
	p.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.acks, p.waiting = a, ""
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\n", p.line(true))
		return
	}
	fmt.Fprintln(p.w, p.line(false))
}

// line is the state as one line; p.mu is held.
func (p *Progress) line(bar bool) string {
	a := p.acks
	elapsed := p.now().Sub(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(a.Records) / elapsed
	}
	stats := fmt.Sprintf("%d/%d records  %.2f MB  %.0f rec/s  %d retries  %.1fs",
		a.Records, p.total, float64(a.Bytes)/1e6, rate, a.Retries, elapsed)
	if p.waiting != "" {
		stats += fmt.Sprintf("  waiting %.0fs for %s", p.now().Sub(p.waitingSince).Seconds(), p.waiting)
	}
	if !bar {
		if a.LastError != "" && a.Records < p.total {
			stats += "  last error: " + a.LastError
		}
		return "sent " + stats
	}
	const width = 30
	done := 0
	if p.total > 0 {
		done = int(a.Records * width / p.total)
	}
	return "[" + strings.Repeat("#", done) + strings.Repeat("-", width-done) + "] " + stats + "  "
}
