package plan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strconv"
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
	var cb []byte
	for i := 0; i < d.Len(); i++ {
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n    ")
		cb = appendChange(cb[:0], d.Change(i))
		bw.Write(cb)
	}
	if d.Len() > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]\n}\n")
	return bw.Flush()
}

// appendChange writes a DocChange as compact JSON, exactly as encoding/json would (same field
// order, omitempty, no HTML escaping), without reflection or re-validating the body: the JSON
// view of 100,000 changes spent most of its time there. TestGolden and TestAppendChange hold
// it to encoding/json's output.
func appendChange(b []byte, c DocChange) []byte {
	b = append(b, `{"action":`...)
	b = appendString(b, c.Action)
	b = append(b, `,"symbol":`...)
	b = appendString(b, c.Symbol)
	b = append(b, `,"foreign_id":`...)
	b = appendString(b, c.ForeignID)
	b = appendOpt(b, "address", c.Address)
	b = appendOpt(b, "reason", c.Reason)
	b = appendOpt(b, "status", c.Status)
	if r := c.Range; r != nil {
		b = append(b, `,"range":{"filename":`...)
		b = appendString(b, r.Filename)
		b = appendPos(append(b, `,"start":`...), r.Start.Line, r.Start.Column, r.Start.Byte)
		b = appendPos(append(b, `,"end":`...), r.End.Line, r.End.Column, r.End.Byte)
		b = append(b, '}')
	}
	b = appendOpt(b, "currency", c.Currency)
	b = appendOpt(b, "amount", c.Amount)
	if r := c.Before; r != nil {
		b = append(b, `,"before":{"phase":`...)
		b = appendString(b, string(r.Phase))
		b = appendOpt(b, "status", r.Status)
		if r.ID != 0 {
			b = strconv.AppendInt(append(b, `,"id":`...), r.ID, 10)
		}
		b = appendOpt(b, "amount", r.Amount)
		b = appendOpt(b, "currency", r.Currency)
		b = append(b, `,"body_hash":`...)
		b = appendString(b, r.BodyHash)
		b = append(b, '}')
	}
	if len(c.After) > 0 {
		b = append(append(b, `,"after":`...), c.After...)
	}
	b = appendOpt(b, "body_hash", c.BodyHash)
	return append(b, '}')
}

func appendOpt(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendPos(b []byte, line, col, byt int) []byte {
	b = strconv.AppendInt(append(b, `{"line":`...), int64(line), 10)
	b = strconv.AppendInt(append(b, `,"column":`...), int64(col), 10)
	b = strconv.AppendInt(append(b, `,"byte":`...), int64(byt), 10)
	return append(b, '}')
}

// appendString writes s as encoding/json does with HTML escaping off.
func appendString(b []byte, s string) []byte {
	if isPlain(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

// isPlain reports whether s needs no escaping: printable ASCII without quote or backslash.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
