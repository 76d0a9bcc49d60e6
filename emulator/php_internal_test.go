package emulator

import "testing"

// TestPHPJSON compares phpJSON with what PHP's json_encode writes with its default flags for
// the same values: "/" as "\/", non-ASCII as lowercase \uXXXX (surrogate pairs), control
// characters as \b \f \n \r \t or \u00XX, <>&' unescaped. The expected strings follow that
// documented behaviour; they were not produced by running PHP.
func TestPHPJSON(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{map[string]string{"a": "https://x.example/y"}, `{"a":"https:\/\/x.example\/y"}`},
		{"Müller € 😀", `"M\u00fcller \u20ac \ud83d\ude00"`},
		{"<&>'", `"<&>'"`},
		{"\"\\\n\r\t\b\f\x01\x1f\x7f", `"\"\\\n\r\t\b\f\u0001\u001f` + "\x7f" + `"`},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{`back\slash/`, `"back\\slash\/"`},
		{[]any{}, `[]`},
		{struct {
			A *string `json:"a"`
			N int64   `json:"n"`
		}{nil, 1592308917}, `{"a":null,"n":1592308917}`},
	}
	for _, c := range cases {
		got, err := phpJSON(c.in)
		if err != nil || string(got) != c.want {
			t.Errorf("phpJSON(%q) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
}
