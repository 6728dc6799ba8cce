package decoders

import (
	"sync"
	"testing"
)

// TestExpansionBudget: takes within the limit succeed, the one that crosses it and every later
// one fail, and concurrent takes are all counted.
func TestExpansionBudget(t *testing.T) {
	b := NewExpansionBudget(100)
	if !b.Take(60) || !b.Take(40) || b.Take(1) || b.Take(0) {
		t.Fatalf("takes: used %d of %d", b.Used(), b.Limit())
	}
	b = NewExpansionBudget(1 << 20)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				b.Take(10)
			}
		}()
	}
	wg.Wait()
	if b.Used() != 80000 {
		t.Fatalf("used %d, want 80000", b.Used())
	}
}
