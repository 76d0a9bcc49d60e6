package plan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
)

// WriteJSON writes the whole Document, every change included (docs/json-plan.md). The
// document is indented except for the changes, which are one compact object per line: at
// 100,000 changes, indenting every request body would triple the output and its time, and a
// line per change is what grep and jq -c users want anyway.
func WriteJSON(w io.Writer, d *Document) error {
	head := *d
	head.Changes = nil
	var hb bytes.Buffer
	enc := json.NewEncoder(&hb)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&head); err != nil {
		return err
	}
	// The encoded head ends with `"changes": null` then "\n}\n": replace that with the list.
	hdr := bytes.TrimSuffix(bytes.TrimRight(hb.Bytes(), "\n}"), []byte("null"))
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(hdr)
	bw.WriteString("[")
	var cb bytes.Buffer
	cenc := json.NewEncoder(&cb)
	cenc.SetEscapeHTML(false)
	for i := 0; i < d.Len(); i++ {
		cb.Reset()
		if err := cenc.Encode(d.Change(i)); err != nil {
			return err
		}
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n    ")
		bw.Write(bytes.TrimSuffix(cb.Bytes(), []byte("\n")))
	}
	if d.Len() > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]\n}\n")
	return bw.Flush()
}
