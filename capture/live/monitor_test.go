package live

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseChannels(t *testing.T) {
	got, err := ParseChannels(" 1,6, 11,")
	if err != nil || !reflect.DeepEqual(got, []int{1, 6, 11}) {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"", ",", "0", "234", "6,x", "-1"} {
		if _, err := ParseChannels(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestSetMonitorWithoutTools: with neither ip nor iw on PATH the error names the package to
// install instead of an exec failure.
func TestSetMonitorWithoutTools(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := SetMonitor(context.Background(), "wlan9", 6)
	if !errors.Is(err, ErrToolMissing) || !strings.Contains(err.Error(), "apt-get install") || !strings.Contains(err.Error(), "wlan9") {
		t.Fatalf("err = %v", err)
	}
}
