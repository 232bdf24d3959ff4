package bench

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// WriteProfile prints, per kind of request, what each follower added in a
// pair: (N shards' total - one shard's) / (N - 1) requests, bytes sent,
// bytes answered and watch bytes, largest first.
func WriteProfile(w io.Writer, p Pair) error {
	n := p.Many.Shards
	if n < 2 {
		return nil
	}
	one, many := opTotals(p.One), opTotals(p.Many)
	type line struct {
		op   Op
		diff Traffic
	}
	var lines []line
	for op, t := range many {
		o := one[op]
		lines = append(lines, line{op: op, diff: Traffic{
			Requests:    t.Requests - o.Requests,
			SentBytes:   t.SentBytes - o.SentBytes,
			AnswerBytes: t.AnswerBytes - o.AnswerBytes,
			WatchEvents: t.WatchEvents - o.WatchEvents,
			WatchBytes:  t.WatchBytes - o.WatchBytes,
		}})
	}
	sort.Slice(lines, func(i, j int) bool {
		if lines[i].diff.Bytes() != lines[j].diff.Bytes() {
			return lines[i].diff.Bytes() > lines[j].diff.Bytes()
		}
		return lines[i].op.String() < lines[j].op.String()
	})
	fmt.Fprintf(w, "per follower, %d shards, %d images (one shard: %d requests, %.0f KiB):\n", n, p.Many.Images, sum(one).Requests, float64(sum(one).Bytes())/1024)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "request\trequests\tKiB sent\tKiB answered\twatch events\tKiB watch\t")
	per := func(x int64) float64 { return float64(x) / float64(n-1) / 1024 }
	var total Traffic
	for _, l := range lines {
		total.add(l.diff)
		fmt.Fprintf(tw, "%s\t%.2f\t%.1f\t%.1f\t%.1f\t%.1f\t\n", l.op, float64(l.diff.Requests)/float64(n-1),
			per(l.diff.SentBytes), per(l.diff.AnswerBytes), float64(l.diff.WatchEvents)/float64(n-1), per(l.diff.WatchBytes))
	}
	fmt.Fprintf(tw, "total\t%.2f\t%.1f\t%.1f\t%.1f\t%.1f\t\n", float64(total.Requests)/float64(n-1),
		per(total.SentBytes), per(total.AnswerBytes), float64(total.WatchEvents)/float64(n-1), per(total.WatchBytes))
	return tw.Flush()
}

func opTotals(r Run) map[Op]Traffic {
	out := map[Op]Traffic{}
	for _, process := range r.Profile.Processes() {
		if !isShard(process) {
			continue
		}
		for op, t := range r.Profile.Of(process) {
			sum := out[op]
			sum.add(t)
			out[op] = sum
		}
	}
	return out
}

func sum(m map[Op]Traffic) Traffic {
	var total Traffic
	for _, t := range m {
		total.add(t)
	}
	return total
}
