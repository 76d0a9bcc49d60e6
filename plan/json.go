package plan

import (
	"bufio"
	"encoding/json"
	"io"
)

// WriteJSON writes the whole Document, every change included (docs/json-plan.md).
func WriteJSON(w io.Writer, d *Document) error {
	full := *d
	full.Changes = make([]DocChange, d.Len())
	for i := range full.Changes {
		full.Changes[i] = d.Change(i)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&full); err != nil {
		return err
	}
	return bw.Flush()
}
