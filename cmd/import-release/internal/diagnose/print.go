package diagnose

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/ci-operator-plugins/import-release/pkg/imagestreams"
)

// maxTagLines bounds the tags listed per release; JSON has every tag.
const maxTagLines = 20

// PrintText prints the diagnosis for a person.
func (d *Diagnosis) PrintText(w io.Writer) {
	fmt.Fprintf(w, "Namespace %s: ", d.Namespace)
	switch {
	case len(d.Releases) == 0:
		fmt.Fprintln(w, "no release has been imported (no release stream)")
	case d.NeedsAttention:
		fmt.Fprintf(w, "NEEDS ATTENTION\n")
		for _, a := range d.Attention {
			fmt.Fprintf(w, "  - %s\n", a)
		}
	default:
		fmt.Fprintln(w, "nothing needs a person")
	}
	for _, r := range d.Releases {
		fmt.Fprintln(w)
		r.printText(w)
	}
	if len(d.Leftovers) > 0 {
		fmt.Fprintln(w, "\nLeft from other payloads:")
		for _, obj := range d.Leftovers {
			fmt.Fprintf(w, "  %s %s (release %s) %s%s\n", obj.Kind, obj.Name, obj.Release, obj.Phase, obj.Message)
		}
	}
}

func (r *Release) printText(w io.Writer) {
	fmt.Fprintf(w, "Release %s\n", r.Name)
	fmt.Fprintf(w, "  payload   release:%s %s (generation %d) from %s\n", r.Name, r.Payload.Phase, r.Payload.Generation, r.Payload.Source)
	if r.PayloadImage != "" {
		fmt.Fprintf(w, "            %s\n", r.PayloadImage)
	}
	if !r.StreamFound {
		fmt.Fprintf(w, "  stream    %s does not exist\n", r.Stream)
	} else {
		fmt.Fprintf(w, "  stream    %s: %d tags, %d imported, %d pending, %d failed, %d missing\n", r.Stream, len(r.Tags),
			r.Counts[imagestreams.Imported], r.Counts[imagestreams.Pending], r.Counts[imagestreams.Failed], r.Counts[imagestreams.Missing])
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	listed := 0
	for _, t := range r.Tags {
		if t.Phase == imagestreams.Imported {
			continue
		}
		if listed++; listed > maxTagLines {
			continue
		}
		fmt.Fprintf(tw, "    %s\t%s\tgeneration %d\t%s\n", t.Tag, t.Phase, t.Generation, reason(t))
	}
	_ = tw.Flush()
	if listed > maxTagLines {
		fmt.Fprintf(w, "    and %d more not imported (--output=json lists every tag)\n", listed-maxTagLines)
	}
	for _, p := range r.Pods {
		fmt.Fprintf(w, "  pod       %s (%s) %s %s\n", p.Name, p.Role, p.Phase, p.Message)
	}
	if r.Retriggers != nil {
		for _, t := range r.Retriggers.Tags {
			state := "finished"
			if t.Open {
				state = "OPEN claim"
			}
			fmt.Fprintf(w, "  re-trigger %s: %d of the budget used, %s (for %s)\n", t.Tag, t.Attempts, state, t.From)
		}
	}
}

func reason(t TagStatus) string {
	if t.Reason == "" && t.Message == "" {
		return ""
	}
	return fmt.Sprintf("%s, %s: %s", t.Class, t.Reason, t.Message)
}
