package command

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAddShardsGroupsFailures(t *testing.T) {
	unauthorized := errors.New("could not import the images of release latest: stable:etcd: Unauthorized")
	stopped, stop := context.WithCancelCause(t.Context())
	stop(&SignalError{Signal: os.Interrupt})
	testCases := []struct {
		name         string
		ctx          context.Context
		errs         []error
		wantFailures []string
		wantResults  []int
	}{
		{
			name:        "all ok",
			ctx:         t.Context(),
			errs:        []error{nil, nil},
			wantResults: []int{0, 0},
		},
		{
			name: "one error, many shards; another error once",
			ctx:  t.Context(),
			errs: []error{unauthorized, nil, unauthorized, errors.New("pod p failed"), unauthorized, unauthorized},
			wantFailures: []string{
				"shard-0, shard-2, shard-4 and 1 more (4 of 6 shards): " + unauthorized.Error(),
				"shard-3 (1 of 6 shards): pod p failed",
			},
			wantResults: []int{1, 0, 1, 2, 1, 1},
		},
		{
			name:         "stopped by a signal: the signal, not the context error",
			ctx:          stopped,
			errs:         []error{context.Canceled, errors.New("could not watch: context canceled")},
			wantFailures: []string{"shard-0, shard-1 (2 of 2 shards): interrupted by SIGINT"},
			wantResults:  []int{1, 1},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			run := &Run{}
			for i, err := range tc.errs {
				run.Shards = append(run.Shards, Shard{Name: "shard-" + string(rune('0'+i)), Err: err})
			}
			rep := &Report{OK: true}
			rep.addShards(tc.ctx, run)
			if diff := cmp.Diff(tc.wantFailures, rep.Failures); diff != "" {
				t.Errorf("failures (-want +got):\n%s", diff)
			}
			var results []int
			for _, s := range rep.ShardRuns {
				results = append(results, s.Failure)
			}
			if diff := cmp.Diff(tc.wantResults, results); diff != "" {
				t.Errorf("failure of each shard (-want +got):\n%s", diff)
			}
			if rep.OK != (len(tc.wantFailures) == 0) {
				t.Errorf("OK = %v with failures %v", rep.OK, rep.Failures)
			}
		})
	}
}
