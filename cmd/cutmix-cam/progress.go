package main

import (
	"fmt"
	"time"
)

// progress draws a one-line counter on stderr when stderr is a terminal and
// --quiet is unset; otherwise it does nothing.
type progress struct {
	g     *globalOptions
	label string
	n     int
	total int
	last  time.Time
	on    bool
}

func newProgress(g *globalOptions, label string, total int) *progress {
	return &progress{g: g, label: label, total: total, on: g.stderrTTY && !g.quiet && !g.json}
}

// add records k more finished items.
func (p *progress) add(k int) {
	p.n += k
	if !p.on || time.Since(p.last) < 100*time.Millisecond && p.n < p.total {
		return
	}
	p.last = time.Now()
	const width = 30
	fill := width * p.n / max(p.total, 1)
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = '.'
		if i < fill {
			bar[i] = '#'
		}
	}
	fmt.Fprintf(p.g.errOut, "\r%s [%s] %d/%d", p.label, bar, p.n, p.total)
}

// done ends the progress line.
func (p *progress) done() {
	if p.on {
		fmt.Fprintln(p.g.errOut)
	}
}
