// Command benchtable measures N concurrent shards importing one release on
// the embedded fake OpenShift against one shard alone, for several numbers
// of shards and payload sizes, and prints one table (and writes it as a PNG
// chart). `make bench` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"

	"github.com/ci-operator-plugins/import-release/test/bench"
)

func main() {
	shards := flag.String("shards", "1,2,8,16,32", "Comma-separated numbers of concurrent shards.")
	images := flag.String("images", "190,2000", "Comma-separated numbers of images in the generated payload.")
	pairs := flag.Int("pairs", 3, "Pairs (one shard, then N shards) measured per cell; the table shows medians.")
	chart := flag.String("chart", "_output/bench.png", "Where to write the chart; empty for none.")
	profile := flag.Bool("profile", false, "Also print, per cell, what each follower adds per kind of request.")
	cpuProfile := flag.String("cpuprofile", "", "Write a CPU profile of the whole measurement to this file (read it with go tool pprof).")
	flag.Parse()
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "error: %v\n", err)
			os.Exit(1)
		}
		defer stop()
	}
	// client-go logs every watch that a finished wait stops as an error.
	klog.SetLogger(logr.Discard())

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	if err := run(ctx, *shards, *images, *pairs, *chart, *profile); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}

// startCPUProfile profiles the process into path until the returned
// function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}

func run(ctx context.Context, shardList, imageList string, pairs int, chart string, profile bool) error {
	shards, err := ints(shardList)
	if err != nil {
		return fmt.Errorf("--shards: %w", err)
	}
	images, err := ints(imageList)
	if err != nil {
		return fmt.Errorf("--images: %w", err)
	}
	if pairs < 1 {
		return fmt.Errorf("--pairs %d: want at least 1", pairs)
	}
	var rows []bench.Row
	for _, m := range images {
		for _, n := range shards {
			var measured []bench.Pair
			for i := range pairs {
				fmt.Fprintf(os.Stderr, "measuring %d shard(s), %d images, pair %d/%d\n", n, m, i+1, pairs)
				p, err := bench.MeasurePair(ctx, n, m, bench.Options{})
				if err != nil {
					return err
				}
				measured = append(measured, p)
			}
			if profile {
				if err := bench.WriteProfile(os.Stdout, measured[len(measured)-1]); err != nil {
					return err
				}
			}
			rows = append(rows, bench.Summarize(measured))
		}
	}
	if err := bench.WriteTable(os.Stdout, rows); err != nil {
		return err
	}
	if chart == "" {
		return nil
	}
	return writeChart(chart, rows, pairs)
}

func writeChart(path string, rows []bench.Row, pairs int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	title := fmt.Sprintf("import-release: N shards against one shard, embedded fake OpenShift, median of %d pair(s)", pairs)
	if err := bench.WriteChart(f, rows, title); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", path)
	return nil
}

func ints(list string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}
