package apply

import (
	"iter"
	"slices"
	"testing"
)

// TestGroups: groups hands out what is waiting, in order, at most groupSize at a time, and
// everything once.
func TestGroups(t *testing.T) {
	ch := make(chan int, 2*groupSize+5)
	for i := range cap(ch) {
		ch <- i
	}
	close(ch)
	var sizes []int
	var all []int
	for g := range groups(ch) {
		sizes = append(sizes, len(g))
		all = append(all, g...)
	}
	if want := []int{groupSize, groupSize, 5}; !slices.Equal(sizes, want) {
		t.Errorf("group sizes %v, want %v", sizes, want)
	}
	for i, x := range all {
		if x != i {
			t.Fatalf("element %d is %d: order or count lost (%d in all)", i, x, len(all))
		}
	}
	if len(all) != cap(ch) {
		t.Fatalf("%d elements, want %d", len(all), cap(ch))
	}
	// A group does not wait for more than is there.
	one := make(chan int, 1)
	one <- 7
	next, stop := iter.Pull(groups(one))
	defer stop()
	if g, ok := next(); !ok || !slices.Equal(g, []int{7}) {
		t.Fatalf("first group %v %t, want [7]", g, ok)
	}
	close(one)
	if g, ok := next(); ok {
		t.Fatalf("a group %v after the channel closed", g)
	}
}
