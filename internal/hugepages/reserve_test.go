package hugepages

import "testing"

func TestReserveSize(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		input, avail int64
		want         int
	}{
		{71 * mb, 24 << 30, 2840 * mb},  // 1,000,000 invoices from CSV: 40 times, in whole huge pages
		{1 * mb, 24 << 30, 0},           // small: not worth a collection
		{71 * mb, 2 << 30, 1024 * mb},   // at most half of what is available
		{71 * mb, 0, 0},                 // unknown memory: nothing
		{1 << 40, 24 << 30, 12288 * mb}, // absurd input: bounded by the memory
		{0, 24 << 30, 0},
	} {
		if got := reserveSize(c.input, c.avail); got != c.want {
			t.Errorf("reserveSize(%d, %d) = %d MB, want %d MB", c.input, c.avail, got/mb, c.want/mb)
		}
	}
}
