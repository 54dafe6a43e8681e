package devicemodel

import (
	"runtime"
	"testing"
	"time"

	"github.com/evse-dev/evse/internal/config"
)

// TestOfSharesAModelWhileItsCatalogueLives: one model for one
// catalogue, another for another, and none kept once the catalogue is
// gone.
func TestOfSharesAModelWhileItsCatalogueLives(t *testing.T) {
	a, err := config.NewCatalogue(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := config.NewCatalogue(nil)
	if err != nil {
		t.Fatal(err)
	}
	if Of(a) != Of(a) {
		t.Error("two models for one catalogue")
	}
	if Of(a) == Of(b) {
		t.Error("one model for two catalogues")
	}
	if len(Of(a).Variables()) != len(New(a).Variables()) {
		t.Error("Of's model is not New's")
	}
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	for deadline := time.Now().Add(5 * time.Second); ; {
		runtime.GC()
		shared.mu.Lock()
		n := len(shared.models)
		shared.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d models kept after their catalogues went", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
