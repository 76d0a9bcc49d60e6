package rules

// punycodeLen returns the length of the Punycode encoding (RFC 3492) of label, without the
// "xn--" prefix. Only the length is needed: DNS limits a label to 63 and a name to 253 octets in
// its ASCII form, which for an internationalised label is "xn--" plus this encoding. The
// standard library keeps its IDNA code internal, and golang.org/x/net is not a dependency, so the
// encoder is written out here; it is small and its output is checked against known encodings in
// the tests through CheckURL.
func punycodeLen(label []rune) int {
	const (
		base        = 36
		tMin        = 1
		tMax        = 26
		initialN    = 128
		initialBias = 72
	)
	out, basic := 0, 0
	for _, r := range label {
		if r < 0x80 {
			basic++
		}
	}
	out = basic
	if basic > 0 {
		out++ // the "-" delimiter
	}
	// int64: delta can exceed 2^31 for a long label of high code points.
	var delta int64
	n, bias, handled := rune(initialN), initialBias, basic
	for handled < len(label) {
		m := rune(0x7fffffff)
		for _, r := range label {
			if r >= n && r < m {
				m = r
			}
		}
		delta += int64(m-n) * int64(handled+1)
		n = m
		for _, r := range label {
			if r < n {
				delta++
			}
			if r != n {
				continue
			}
			q := delta
			for k := base; ; k += base {
				t := int64(k - bias)
				t = max(tMin, min(t, tMax))
				if q < t {
					break
				}
				out++
				q = (q - t) / (base - t)
			}
			out++
			bias = punycodeAdapt(delta, handled+1, handled == basic)
			delta = 0
			handled++
		}
		delta++
		n++
	}
	return out
}

// punycodeAdapt is the bias adaptation function of RFC 3492 §6.1.
func punycodeAdapt(delta int64, numPoints int, first bool) int {
	const (
		base = 36
		tMin = 1
		tMax = 26
		skew = 38
		damp = 700
	)
	if first {
		delta /= damp
	} else {
		delta /= 2
	}
	delta += delta / int64(numPoints)
	k := 0
	for delta > ((base-tMin)*tMax)/2 {
		delta /= base - tMin
		k += base
	}
	return k + int((base-tMin+1)*delta/(delta+skew))
}
