package imagestreams

import (
	"fmt"
	"strings"
	"time"
)

// An error names at most maxNamedTags tags, each with at most
// maxMessageLength characters of its failure message, and counts the rest:
// a payload of thousands of tags must not make an error of megabytes. The
// whole list stays in the error's fields, and the wait's progress reports
// each failure as it is seen.
const (
	maxNamedTags     = 5
	maxMessageLength = 200
)

// ImportFailedError says which tags failed to import, from where and why,
// after the re-trigger budget was spent.
type ImportFailedError struct {
	Namespace, Stream string
	Failed            []TagState
}

func (e *ImportFailedError) Error() string {
	parts := named(e.Failed, func(f TagState) string {
		return fmt.Sprintf("%s from %s: %s: %s", f.Tag, f.Source, f.Reason, shorten(f.Message, maxMessageLength))
	})
	return fmt.Sprintf("could not import %d tag(s) into %s/%s: %s", len(e.Failed), e.Namespace, e.Stream, strings.Join(parts, "; "))
}

// StalledError says that nothing changed for the stall timeout and what the
// wait was waiting for.
type StalledError struct {
	Namespace, Stream string
	Timeout           time.Duration
	Imported, Total   int
	Waiting           []TagState
}

func (e *StalledError) Error() string {
	names := named(e.Waiting, func(w TagState) string {
		return fmt.Sprintf("%s (%s)", w.Tag, strings.ToLower(string(w.Phase)))
	})
	return fmt.Sprintf("no import progress in %s/%s for %s: %d/%d tags imported, waiting for %s",
		e.Namespace, e.Stream, e.Timeout, e.Imported, e.Total, strings.Join(names, ", "))
}

// named describes the first maxNamedTags tags and counts the rest, so an
// error stays small however many tags it is about.
func named(tags []TagState, describe func(TagState) string) []string {
	out := make([]string, 0, maxNamedTags+1)
	for i, t := range tags {
		if i == maxNamedTags {
			return append(out, fmt.Sprintf("and %d more", len(tags)-maxNamedTags))
		}
		out = append(out, describe(t))
	}
	return out
}

// shorten cuts s to at most n bytes (on a rune boundary) and marks the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
