package release

import (
	"os"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
)

func TestMain(m *testing.M) {
	// client-go logs every watch that a finished wait stops as an error.
	klog.SetLogger(logr.Discard())
	os.Exit(m.Run())
}
