package rules

// CountryPair is one row of the ISO 3166-1 table, exposed to the black-box tests.
type CountryPair struct{ Alpha3, Alpha2 string }

// CountryTable returns the ISO 3166-1 table in its source order, for the consistency tests.
func CountryTable() []CountryPair {
	out := make([]CountryPair, 0, len(countries))
	for _, c := range countries {
		out = append(out, CountryPair{c.alpha3, c.alpha2})
	}
	return out
}

// Alpha2Index returns a copy of the alpha-2 to alpha-3 index that the hints use.
func Alpha2Index() map[string]string {
	m := make(map[string]string, len(alpha2To3))
	for k, v := range alpha2To3 {
		m[k] = v
	}
	return m
}

// PunycodeLen exposes the Punycode length used for DNS limits of internationalised labels.
func PunycodeLen(label string) int { return punycodeLen([]rune(label)) }

// MaxCodeLen is the length SuggestCurrency assumes for the longest code.
const MaxCodeLen = maxCodeLen
