package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/ci-operator-plugins/import-release/pkg/fakeopenshift"
	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

// Pair is one measurement: one shard alone, then N shards, each on a
// cluster of its own, back to back so that both see the same machine load.
type Pair struct {
	One, Many Run
}

// MeasurePair imports with one shard and then with shards.
func MeasurePair(ctx context.Context, shards, images int, opts Options) (Pair, error) {
	one, err := ImportWithShards(ctx, 1, images, opts)
	if err != nil {
		return Pair{}, err
	}
	many, err := ImportWithShards(ctx, shards, images, opts)
	if err != nil {
		return Pair{}, err
	}
	return Pair{One: one, Many: many}, nil
}

// Row is one line of the table: the median over the pairs measured for one
// number of shards and one payload size, except MergeApplies, which keeps
// the fewest and the most.
type Row struct {
	Shards, Images int
	// Pairs is how many pairs the row summarizes.
	Pairs int
	// WallRatio is how long the slowest of the N shards took, relative to
	// one shard alone in the same pair. For one shard it compares two runs
	// of one shard: the noise of the measurement.
	WallRatio float64
	// MergeAppliesMin and MergeAppliesMax are the applies of the payload
	// merge (the payload field manager's applies to the stable stream) the
	// shards sent.
	MergeAppliesMin, MergeAppliesMax int
	// Mutating is every mutating request the shards sent, no-ops and
	// rejected ones included.
	Mutating float64
	// RequestsPerFollower, BytesPerFollower and AnswerBytesPerFollower are
	// what each shard beyond the first adds: (N shards' total - one
	// shard's) / (N - 1); zero for one shard. BytesPerFollower counts the
	// request bodies and the watch events the cluster delivered (the fake's
	// counters), AnswerBytesPerFollower the answers to the requests (sized
	// by the client wrapper), where the reads of a large stream show.
	RequestsPerFollower, BytesPerFollower, AnswerBytesPerFollower float64
	// Imports and Pods are the imports written and the pods created.
	Imports, Pods float64
}

// Summarize turns the pairs measured for one cell into a row.
func Summarize(pairs []Pair) Row {
	if len(pairs) == 0 {
		return Row{}
	}
	first := pairs[0].Many
	row := Row{Shards: first.Shards, Images: first.Images, Pairs: len(pairs), MergeAppliesMin: -1}
	var wall, mutating, requests, bytes, answers, imports, pods []float64
	for _, p := range pairs {
		wall = append(wall, p.Many.Wall.Seconds()/p.One.Wall.Seconds())
		merges := MergeApplies(p.Many)
		if row.MergeAppliesMin < 0 || merges < row.MergeAppliesMin {
			row.MergeAppliesMin = merges
		}
		row.MergeAppliesMax = max(row.MergeAppliesMax, merges)
		mutating = append(mutating, float64(Mutating(p.Many)))
		if n := p.Many.Shards; n > 1 {
			requests = append(requests, float64(Requests(p.Many)-Requests(p.One))/float64(n-1))
			bytes = append(bytes, float64(Bytes(p.Many)-Bytes(p.One))/float64(n-1))
			answers = append(answers, float64(AnswerBytes(p.Many)-AnswerBytes(p.One))/float64(n-1))
		}
		imports = append(imports, float64(p.Many.Stats.TotalImports()))
		pods = append(pods, float64(Pods(p.Many)))
	}
	row.WallRatio = median(wall)
	row.Mutating = median(mutating)
	row.RequestsPerFollower = median(requests)
	row.BytesPerFollower = median(bytes)
	row.AnswerBytesPerFollower = median(answers)
	row.Imports = median(imports)
	row.Pods = median(pods)
	return row
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func isShard(process string) bool { return strings.HasPrefix(process, "shard-") }

// MergeApplies counts the applies of the payload merge the shards sent,
// whatever the server did with them.
func MergeApplies(r Run) int {
	return r.Stats.CallsWhere(func(c fakeopenshift.Call) bool {
		return c.Verb == "apply" && c.Kind == "ImageStream" && c.Manager == imagestreams.ManagerPayload && isShard(c.Process)
	})
}

// Mutating counts the shards' mutating requests, whatever their outcome.
func Mutating(r Run) int { return r.Stats.MutatingBy(isShard) }

// Requests counts the shards' requests.
func Requests(r Run) int { return r.Stats.RequestsBy(isShard) }

// Bytes sums the shards' request bodies and the watch events delivered to
// them.
func Bytes(r Run) int64 {
	sent, watched := r.Stats.BytesBy(isShard)
	return sent + watched
}

// AnswerBytes sums the answers to the shards' requests.
func AnswerBytes(r Run) int64 {
	var n int64
	for _, process := range r.Profile.Processes() {
		if isShard(process) {
			n += r.Profile.Total(process).AnswerBytes
		}
	}
	return n
}

// Pods counts the pods created.
func Pods(r Run) int {
	n := 0
	for _, v := range r.Stats.PodsCreated {
		n += v
	}
	return n
}

// WriteTable prints the rows as one aligned table.
func WriteTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "shards\timages\tpairs\twall vs 1 shard\tmerge applies\tmutating requests\trequests/follower\tKiB sent+watched/follower\tKiB answered/follower\timports\tpods\t")
	for _, r := range rows {
		merges := fmt.Sprint(r.MergeAppliesMin)
		if r.MergeAppliesMax != r.MergeAppliesMin {
			merges = fmt.Sprintf("%d-%d", r.MergeAppliesMin, r.MergeAppliesMax)
		}
		perFollower, kib, answered := "-", "-", "-"
		if r.Shards > 1 {
			perFollower = fmt.Sprintf("%.1f", r.RequestsPerFollower)
			kib = fmt.Sprintf("%.0f", r.BytesPerFollower/1024)
			answered = fmt.Sprintf("%.0f", r.AnswerBytesPerFollower/1024)
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%.2f\t%s\t%.0f\t%s\t%s\t%s\t%.0f\t%.0f\t\n",
			r.Shards, r.Images, r.Pairs, r.WallRatio, merges, r.Mutating, perFollower, kib, answered, r.Imports, r.Pods)
	}
	return tw.Flush()
}
