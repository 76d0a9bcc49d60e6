package plan

// An internal test: it holds the hand-written codec of plan files (filecodec.go) to
// encoding/json on the file's own types, including values Make never produces.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/invoiceform/invoiceform/invoice"
	"github.com/invoiceform/invoiceform/state"
)

// randText is a string that is plain most of the time, and otherwise holds what JSON
// escapes: quotes, backslashes, HTML characters, control characters, non-ASCII, U+2028,
// and now and then invalid UTF-8.
func randText(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return ""
	}
	pieces := []string{"a", "order-", "42", " ", `"`, `\`, "<", ">", "&", "\n", "\t", "\x00", "\x1f", "é", "€", "💶", "\u2028", "\u2029", "/", "\x7f", `"changes":[]`, "\\u0041"}
	if r.IntN(20) == 0 {
		pieces = append(pieces, "\xff", "\xe2\x82")
	}
	var b []byte
	for range r.IntN(6) + 1 {
		b = append(b, pieces[r.IntN(len(pieces))]...)
	}
	return string(b)
}

func randAmount(r *rand.Rand) invoice.Amount {
	switch r.IntN(4) {
	case 0:
		return invoice.Amount{}
	case 1:
		return invoice.MustParseAmount("0")
	}
	return invoice.MustParseAmount(fmt.Sprintf("%d.%0*d", r.IntN(100000), r.IntN(8)+1, r.IntN(1000)))
}

func randInt(r *rand.Rand) int64 {
	switch r.IntN(6) {
	case 0:
		return 0
	case 1:
		return -r.Int64()
	case 2:
		return math.MaxInt64
	case 3:
		return math.MinInt64
	}
	return r.Int64N(1<<uint(r.IntN(62)+1)) + r.Int64N(2)
}

func randFilePlan(r *rand.Rand) filePlan {
	hash := func() string {
		if r.IntN(4) == 0 {
			return randText(r)
		}
		sum := sha256.Sum256([]byte(randText(r)))
		return hex.EncodeToString(sum[:])
	}
	fp := filePlan{filePlanHead: filePlanHead{Lineage: randText(r), Serial: r.Uint64(), Binding: state.Binding{Endpoint: randText(r)},
		ConfigHash: hash(), PlanHash: hash(), Prune: r.IntN(2) == 0, Diagnostics: []fileDiag{}}}
	if r.IntN(3) == 0 {
		fp.Targets = []string{randText(r), randText(r)}
	}
	if r.IntN(3) == 0 {
		fp.Diagnostics = append(fp.Diagnostics, fileDiag{Severity: "warning", Summary: randText(r), Detail: randText(r), Range: &hcl.Range{Filename: randText(r)}})
	}
	if r.IntN(3) == 0 {
		fp.Settled = []Settled{{ForeignID: randText(r), Status: "confirmed"}}
	}
	if r.IntN(2) == 0 {
		fp.Statuses = &Statuses{Paid: []StatusTotal{{Currency: "EUR", Count: 2, Total: randAmount(r)}}, Unchanged: map[string]int{"created": 3}}
	}
	switch r.IntN(8) {
	case 0: // nil: "changes":null
	case 1:
		fp.Changes = []fileChange{}
	default:
		for range r.IntN(20) + 1 {
			c := fileChange{Action: []string{"create", "no-op", "cancel", "resolve", "undeclared", "conflict", randText(r)}[r.IntN(7)],
				ForeignID: randText(r), Address: randText(r), Reason: randText(r), Cancel: r.IntN(3) == 0, Status: randText(r),
				Currency: randText(r), Amount: randAmount(r), BodyHash: hash()}
			if r.IntN(2) == 0 {
				pos := func() hcl.Pos { return hcl.Pos{Line: int(randInt(r)), Column: int(randInt(r)), Byte: int(randInt(r))} }
				c.Range = &hcl.Range{Filename: randText(r), Start: pos(), End: pos()}
			}
			if r.IntN(2) == 0 {
				c.Before = &fileRecord{Phase: state.Phase(randText(r)), Status: randText(r), ID: randInt(r), Currency: randText(r), Amount: randText(r), BodyHash: hash()}
			}
			fp.Changes = append(fp.Changes, c)
		}
	}
	return fp
}

// envelopeOf wraps a payload as Encode does.
func envelopeOf(t testing.TB, payload []byte) []byte {
	sum := sha256.Sum256(payload)
	head, err := json.Marshal(envelope{Format: FileFormat, Version: FileVersion, CreatedAt: time.Date(2026, 11, 24, 4, 0, 0, 0, time.UTC), Checksum: "sha256:" + hex.EncodeToString(sum[:])})
	if err != nil {
		t.Fatal(err)
	}
	return append(append(bytes.TrimSuffix(head, []byte(`null}`)), payload...), '}')
}

// stdDecode is what Decode reads from data with encoding/json alone.
func stdDecode(data []byte) (env envelope, fp filePlan, err error) {
	if err = json.Unmarshal(data, &env); err != nil {
		return
	}
	err = json.Unmarshal(env.Plan, &fp)
	return
}

// TestFileCodec: the hand-written writer writes exactly json.Marshal's bytes, and the reader
// reads them, as json.Unmarshal does, for random plan files.
func TestFileCodec(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 2026))
	for i := range 3000 {
		fp := randFilePlan(r)
		want, err := json.Marshal(&fp)
		if err != nil {
			t.Fatal(err)
		}
		data := envelopeOf(t, want)
		env, dfp, ok := decodeFile(data)
		if !ok {
			t.Fatalf("plan %d: the reader does not read what json.Marshal writes:\n%s", i, data)
		}
		wenv, wfp, err := stdDecode(data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(env, wenv) || !reflect.DeepEqual(dfp, wfp) {
			t.Fatalf("plan %d: the reader differs from json.Unmarshal:\n got %+v\nwant %+v", i, dfp, wfp)
		}
		if fp.Changes == nil { // Encode always writes a change array, if an empty one
			fp.Changes = []fileChange{}
			if want, err = json.Marshal(&fp); err != nil {
				t.Fatal(err)
			}
		}
		got, err := marshalFilePlan([]byte("prefix"), &fp, len(fp.Changes), func(i int) fileChange { return fp.Changes[i] })
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Fatalf("plan %d: the writer differs from json.Marshal:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestEncodeAsJSON: Encode writes what it wrote with encoding/json alone, for random plans.
func TestEncodeAsJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 17))
	now := time.Date(2026, 11, 24, 4, 5, 6, 789, time.FixedZone("CET", 3600))
	for i := range 300 {
		fp := randFilePlan(r)
		p := &Plan{Lineage: fp.Lineage, Serial: fp.Serial, Binding: fp.Binding, ConfigHash: fp.ConfigHash, Targets: fp.Targets, Prune: fp.Prune, Settled: fp.Settled}
		if fp.Statuses != nil {
			p.Statuses = *fp.Statuses
		}
		for _, fc := range fp.Changes {
			c := &Change{Action: actions[r.IntN(len(actions))], ForeignID: fc.ForeignID, Reason: fc.Reason, Status: fc.Status}
			if fc.Range != nil {
				c.Range = *fc.Range
			}
			if r.IntN(3) > 0 {
				c.After = &Declared{Address: fc.Address, Cancel: fc.Cancel, Currency: fc.Currency, Amount: fc.Amount, BodyHash: fc.BodyHash}
			}
			if b := fc.Before; b != nil {
				c.Before = &Recorded{Phase: b.Phase, Status: b.Status, ID: b.ID, Currency: b.Currency, Amount: b.Amount, BodyHash: b.BodyHash, RequestCurrency: fc.Currency, RequestAmount: fc.Amount}
			}
			p.Changes = append(p.Changes, c)
		}
		got, err := Encode(p, now)
		if err != nil {
			t.Fatal(err)
		}
		want := fp
		want.filePlanHead = filePlanHead{Lineage: p.Lineage, Serial: p.Serial, Binding: p.Binding, ConfigHash: p.ConfigHash, PlanHash: p.Hash(), Targets: p.Targets, Prune: p.Prune, Diagnostics: []fileDiag{}}
		want.filePlanTail = filePlanTail{Settled: p.Settled, Statuses: &p.Statuses}
		want.Changes = []fileChange{}
		for _, c := range p.Changes {
			want.Changes = append(want.Changes, fileChangeOf(c))
		}
		payload, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(payload)
		head, err := json.Marshal(envelope{Format: FileFormat, Version: FileVersion, CreatedAt: now.UTC(), Checksum: "sha256:" + hex.EncodeToString(sum[:])})
		if err != nil {
			t.Fatal(err)
		}
		if w := append(append(bytes.TrimSuffix(head, []byte(`null}`)), payload...), '}'); !bytes.Equal(got, w) {
			t.Fatalf("plan %d: Encode wrote\n%s\nwant\n%s", i, got, w)
		}
		// Random plans are mostly refused by Decode's checks (a phase, a body hash); one that
		// passes them reads back as itself.
		if back, _, err := Decode(got); err == nil && back.Hash() != p.Hash() {
			t.Fatalf("plan %d: read back with another hash", i)
		}
	}
}

// TestFileCodecLeavesTheRest: what the writer never writes is left to encoding/json.
func TestFileCodecLeavesTheRest(t *testing.T) {
	payload := `{"lineage":"l","serial":1,"binding":{"endpoint":"e","key_fingerprint":""},"config_hash":"c","plan_hash":"h","prune":false,"diagnostics":[],"changes":[%s]}`
	change := `{"action":"create","foreign_id":"a","body_hash":"b"}`
	for _, tt := range []struct{ name, payload string }{
		{"whitespace", fmt.Sprintf(payload, " "+change)},
		{"another order", fmt.Sprintf(payload, `{"foreign_id":"a","action":"create"}`)},
		{"an unknown member", fmt.Sprintf(payload, `{"action":"create","foreign_id":"a","x":1}`)},
		{"a key in capitals", fmt.Sprintf(payload, `{"Action":"create","foreign_id":"a"}`)},
		{"a null", fmt.Sprintf(payload, `{"action":null,"foreign_id":"a"}`)},
		{"a surrogate escape", fmt.Sprintf(payload, `{"action":"create","foreign_id":"\ud83d\udcb6"}`)},
		{"invalid UTF-8", fmt.Sprintf(payload, "{\"action\":\"create\",\"foreign_id\":\"\xff\"}")},
		{"a number with a fraction", fmt.Sprintf(payload, `{"action":"create","foreign_id":"a","before":{"phase":"issued","id":1.0,"body_hash":"b"}}`)},
		{"the changes twice", fmt.Sprintf(payload, change) + `,"changes":[]}`},
		{"changes in capitals after", fmt.Sprintf(payload, change)[:len(fmt.Sprintf(payload, change))-1] + `,"CHANGES":[]}`},
		{"the long s", fmt.Sprintf(payload, change)[:len(fmt.Sprintf(payload, change))-1] + `,"chanGeſ":null}`},
		{"no changes", `{"lineage":"l"}`},
		{"a bad amount", fmt.Sprintf(payload, `{"action":"create","foreign_id":"a","amount":"1e5"}`)},
	} {
		data := envelopeOf(t, []byte(tt.payload))
		if _, _, ok := decodeFile(data); ok {
			t.Errorf("%s: read by hand", tt.name)
		}
	}
	// The same change as the writer writes it is read by hand.
	if _, _, ok := decodeFile(envelopeOf(t, []byte(fmt.Sprintf(payload, change)))); !ok {
		t.Error("the control was not read by hand: the cases above prove nothing")
	}
	// A file with the plan twice, or ending in a newline, is encoding/json's too.
	ok := envelopeOf(t, []byte(fmt.Sprintf(payload, change)))
	for name, data := range map[string][]byte{
		"plan twice":   append(bytes.TrimSuffix(ok, []byte("}")), `,"plan":{}}`...),
		"newline":      append(bytes.Clone(ok), '\n'),
		"Plan as well": append(bytes.TrimSuffix(ok, []byte("}")), `,"PLAN":{}}`...),
	} {
		if _, _, fast := decodeFile(data); fast {
			t.Errorf("%s: read by hand", name)
		}
	}
}

// FuzzFileCodec: whatever the reader reads by hand, json.Unmarshal reads the same.
func FuzzFileCodec(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		fp := randFilePlan(r)
		payload, err := marshalFilePlan(nil, &fp, len(fp.Changes), func(i int) fileChange { return fp.Changes[i] })
		if err != nil {
			f.Fatal(err)
		}
		f.Add(envelopeOf(f, payload))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		env, fp, ok := decodeFile(data)
		if !ok {
			return
		}
		wenv, wfp, err := stdDecode(data)
		if err != nil {
			t.Fatalf("read by hand, and json.Unmarshal says %v", err)
		}
		if !reflect.DeepEqual(env, wenv) || !reflect.DeepEqual(fp, wfp) {
			t.Fatalf("the reader differs from json.Unmarshal:\n got %+v %+v\nwant %+v %+v", env, fp, wenv, wfp)
		}
	})
}
