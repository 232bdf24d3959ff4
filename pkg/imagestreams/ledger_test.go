package imagestreams

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPlanRetriggers(t *testing.T) {
	failed := func(tags ...string) []TagState {
		var out []TagState
		for _, tag := range tags {
			out = append(out, TagState{Tag: tag, Phase: Failed, Source: "quay.io/a/" + tag})
		}
		return out
	}
	const budget = 2
	before := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	start := before.Add(time.Hour)
	now := start.Add(time.Minute)
	testCases := []struct {
		name        string
		ledger      ledger
		failed      []TagState
		arrival     map[string]int
		wantRetry   []string
		wantSpent   []string
		wantLedger  ledger
		wantArrival map[string]int
	}{
		{
			name:        "first failure opens episode 1",
			ledger:      ledger{},
			failed:      failed("a"),
			wantRetry:   []string{"a"},
			wantLedger:  ledger{"a": {From: "quay.io/a/a", Number: 1, Attempts: 1}},
			wantArrival: map[string]int{"a": 0},
		},
		{
			name:        "next attempt of the episode",
			ledger:      ledger{"a": {From: "quay.io/a/a", Number: 1, Attempts: 1}},
			failed:      failed("a"),
			wantRetry:   []string{"a"},
			wantLedger:  ledger{"a": {From: "quay.io/a/a", Number: 1, Attempts: 2}},
			wantArrival: map[string]int{"a": 0},
		},
		{
			name:        "budget spent: the episode is marked",
			ledger:      ledger{"a": {From: "quay.io/a/a", Number: 1, Attempts: 2}},
			failed:      failed("a"),
			wantSpent:   []string{"a"},
			wantLedger:  ledger{"a": {From: "quay.io/a/a", Number: 1, Attempts: 2, Spent: true, SpentAt: now}},
			wantArrival: map[string]int{"a": 0},
		},
		{
			name:        "an episode spent while this process ran is its own",
			ledger:      ledger{"a": {From: "quay.io/a/a", Number: 1, Attempts: 2, Spent: true, SpentAt: start.Add(time.Second)}},
			failed:      failed("a"),
			wantSpent:   []string{"a"},
			wantLedger:  ledger{"a": {From: "quay.io/a/a", Number: 1, Attempts: 2, Spent: true, SpentAt: start.Add(time.Second)}},
			wantArrival: map[string]int{"a": 0},
		},
		{
			name:        "an episode spent before this process started opens the next",
			ledger:      ledger{"a": {From: "quay.io/a/a", Number: 3, Attempts: 2, Spent: true, SpentAt: before}},
			failed:      failed("a"),
			wantRetry:   []string{"a"},
			wantLedger:  ledger{"a": {From: "quay.io/a/a", Number: 4, Attempts: 1}},
			wantArrival: map[string]int{"a": 3},
		},
		{
			name:        "the episode this process opened is not opened again",
			ledger:      ledger{"a": {From: "quay.io/a/a", Number: 4, Attempts: 2}},
			failed:      failed("a"),
			arrival:     map[string]int{"a": 3},
			wantSpent:   []string{"a"},
			wantLedger:  ledger{"a": {From: "quay.io/a/a", Number: 4, Attempts: 2, Spent: true, SpentAt: now}},
			wantArrival: map[string]int{"a": 3},
		},
		{
			name:        "a new source starts a new episode",
			ledger:      ledger{"a": {From: "quay.io/old/a", Number: 2, Attempts: 2, Spent: true}},
			failed:      failed("a"),
			wantRetry:   []string{"a"},
			wantLedger:  ledger{"a": {From: "quay.io/a/a", Number: 3, Attempts: 1}},
			wantArrival: map[string]int{"a": 0},
		},
		{
			name:        "other tags' entries are kept",
			ledger:      ledger{"b": {From: "quay.io/a/b", Number: 1, Attempts: 2, Spent: true}, "a": {From: "quay.io/a/a", Number: 1, Attempts: 2}},
			failed:      failed("a", "c"),
			wantRetry:   []string{"c"},
			wantSpent:   []string{"a"},
			wantLedger:  ledger{"b": {From: "quay.io/a/b", Number: 1, Attempts: 2, Spent: true}, "a": {From: "quay.io/a/a", Number: 1, Attempts: 2, Spent: true, SpentAt: now}, "c": {From: "quay.io/a/c", Number: 1, Attempts: 1}},
			wantArrival: map[string]int{"a": 0, "c": 0},
		},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			arrival := tc.arrival
			if arrival == nil {
				arrival = map[string]int{}
			}
			noteArrival(arrival, tc.ledger, tc.failed, start)
			p := planRetriggers(tc.ledger, tc.failed, budget, arrival, now)
			if diff := cmp.Diff(tc.wantRetry, tagNames(p.retry)); diff != "" {
				t.Errorf("retry (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantSpent, tagNames(p.exhausted)); diff != "" {
				t.Errorf("exhausted (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantLedger, p.next); diff != "" {
				t.Errorf("ledger (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantArrival, arrival); diff != "" {
				t.Errorf("arrival (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSpentFor(t *testing.T) {
	st := []TagState{{Tag: "a", Phase: Failed, Source: "s"}}
	testCases := []struct {
		name    string
		ledger  ledger
		arrival map[string]int
		want    []string
	}{
		{name: "no entry", ledger: ledger{}},
		{name: "attempts counted but not marked: the last may be under way", ledger: ledger{"a": {From: "s", Number: 1, Attempts: 5}}},
		{name: "marked spent by the holder", ledger: ledger{"a": {From: "s", Number: 1, Attempts: 2, Spent: true}}, want: []string{"a"}},
		{name: "spent before this process came", ledger: ledger{"a": {From: "s", Number: 1, Attempts: 2, Spent: true}}, arrival: map[string]int{"a": 1}},
		{name: "spent for another source", ledger: ledger{"a": {From: "other", Number: 1, Attempts: 2, Spent: true}}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tagNames(spentFor(tc.ledger, st, tc.arrival))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
