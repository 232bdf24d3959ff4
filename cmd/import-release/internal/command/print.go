package command

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

func (r *Report) print(stdout io.Writer, format string) error {
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	if len(r.Failures) > 0 {
		fmt.Fprintln(stdout, "FAILED:")
		for i, f := range r.Failures {
			fmt.Fprintf(stdout, "  [%d] %s\n", i+1, f)
		}
		fmt.Fprintln(stdout)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "RELEASE\tIMAGES\tIMPORTS\tPODS\tWRITES\tWALL TIME\tRELEASE IMAGE\n")
	for _, rr := range r.Releases {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", rr.Name, rr.Images, known(rr.Imports), known(rr.PodsCreated), known(rr.Writes),
			seconds(rr.WallSeconds), rr.ReleaseImage)
	}
	_ = tw.Flush()
	fmt.Fprintln(stdout)
	r.printShards(stdout)
	if len(r.Invariants) > 0 {
		fmt.Fprintln(stdout)
		fmt.Fprintln(stdout, "Invariants (embedded cluster):")
		for _, inv := range r.Invariants {
			mark := "ok  "
			if !inv.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(stdout, "  %s %s: %s\n", mark, inv.Name, inv.Detail)
		}
	}
	if r.Diagnosis != nil {
		fmt.Fprintln(stdout)
		r.Diagnosis.PrintText(stdout)
	}
	return nil
}

// printShards prints one line per shard, or the first four and last two
// when all between succeeded; a failed shard points at its failure, so the
// columns stay narrow however long the error.
func (r *Report) printShards(stdout io.Writer) {
	ok := 0
	var slowest float64
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "SHARD\tRESULT\tTIME\n")
	for i, s := range r.ShardRuns {
		slowest = max(slowest, s.Seconds)
		if s.OK {
			ok++
		}
		if len(r.ShardRuns) > 8 && i >= 4 && i < len(r.ShardRuns)-2 && s.OK {
			if i == 4 {
				fmt.Fprintf(tw, "...\t\t\n")
			}
			continue
		}
		result := "ok"
		if !s.OK {
			result = fmt.Sprintf("failed [%d]", s.Failure)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Shard, result, seconds(s.Seconds))
	}
	_ = tw.Flush()
	fmt.Fprintf(stdout, "%d of %d shards succeeded; the slowest took %s\n", ok, len(r.ShardRuns), seconds(slowest))
}

func known(n int) string {
	if n < 0 {
		return "n/a"
	}
	return fmt.Sprint(n)
}

func seconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(10 * time.Millisecond).String()
}
