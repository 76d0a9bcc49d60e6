package emulator

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Errors of the control API (SetStatus and /_emulator/).
var (
	// ErrNotFound is returned when the merchant has no invoice with that foreign_id.
	ErrNotFound = errors.New("no such invoice")
	// ErrBadTransition is returned when the invoice's status cannot move to the one asked
	// (confirmed and failed are final).
	ErrBadTransition = errors.New("status change not allowed")
)

// serveControl answers the emulator-only endpoints under /_emulator/. They are not part of
// the real API: no auth, and only from loopback so an emulator exposed by mistake cannot be
// driven from elsewhere.
//
//	GET  /_emulator/invoices[?key=K]                 every invoice, with per-foreign_id counts
//	GET  /_emulator/invoices/{foreign_id}[?key=K]    one invoice
//	POST /_emulator/invoices/{foreign_id}/status[?key=K]  body {"status":"confirmed","pay_currency":"ETH"}
//	POST /_emulator/invoices/{foreign_id}/pay[?key=K]     body {"amount":"0.001","pay_currency":"ETH"}
//	GET  /_emulator/faults                           fault and callback counters
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	if !fromLoopback(r) || !loopbackHost(r.Host) {
		// The Host check stops a web page the operator visits from driving the controls
		// through DNS rebinding (its requests carry the page's own host name).
		controlError(w, http.StatusForbidden, "the /_emulator/ controls answer only requests from loopback to a loopback Host (127.0.0.1, ::1 or localhost)")
		return
	}
	if r.Method != http.MethodGet && !isJSON(r.Header.Get("Content-Type")) {
		// A browser sends a cross-origin text/plain or form POST without asking first;
		// application/json needs a preflight, which the controls never grant.
		controlError(w, http.StatusUnsupportedMediaType, "the /_emulator/ controls take Content-Type: application/json")
		return
	}
	rest := strings.TrimPrefix(r.URL.EscapedPath(), "/_emulator")
	key := r.URL.Query().Get("key")
	switch {
	case rest == "/faults" && r.Method == http.MethodGet:
		controlJSON(w, http.StatusOK, s.Faults())
		return
	case rest == "/invoices" && r.Method == http.MethodGet:
		list := s.Invoices()
		if key != "" {
			kept := list[:0]
			for _, inv := range list {
				if inv.Merchant == key {
					kept = append(kept, inv)
				}
			}
			list = kept
		}
		controlJSON(w, http.StatusOK, map[string]any{"invoices": list})
		return
	}
	seg, ok := strings.CutPrefix(rest, "/invoices/")
	if !ok {
		controlError(w, http.StatusNotFound, "unknown control endpoint; see docs/emulator.md for the /_emulator/ routes")
		return
	}
	seg, setStatus := strings.CutSuffix(seg, "/status")
	pay := false
	if !setStatus {
		seg, pay = strings.CutSuffix(seg, "/pay")
	}
	id, err := url.PathUnescape(seg)
	if err != nil || id == "" || strings.Contains(seg, "/") {
		controlError(w, http.StatusNotFound, "unknown control endpoint; path-escape the foreign_id (a / is %2F)")
		return
	}
	key, status, msg := s.resolveKey(key, id)
	if status != 0 {
		controlError(w, status, msg)
		return
	}
	switch {
	case !setStatus && !pay && r.Method == http.MethodGet:
		inv, _ := s.Lookup(key, id)
		controlJSON(w, http.StatusOK, inv)
	case setStatus && r.Method == http.MethodPost:
		var body struct {
			Status      string `json:"status"`
			PayCurrency string `json:"pay_currency"`
		}
		s.controlChange(w, r, key, id, `want a JSON body like {"status":"confirmed"}`, &body, func() error {
			return s.SetStatus(key, id, body.Status, body.PayCurrency)
		})
	case pay && r.Method == http.MethodPost:
		var body struct {
			Amount      string `json:"amount"` // a decimal string in the pay currency; absent: the rest
			PayCurrency string `json:"pay_currency"`
		}
		s.controlChange(w, r, key, id, `want a JSON body like {"amount":"0.001"} (a decimal string in the pay currency; {} pays the rest)`, &body, func() error {
			return s.Pay(key, id, body.Amount, body.PayCurrency)
		})
	default:
		controlError(w, http.StatusMethodNotAllowed, "use GET for an invoice and POST for its /status or /pay")
	}
}

// resolveKey finds the merchant of a foreign_id when ?key= is not given; it must then be
// unambiguous.
func (s *Server) resolveKey(key, foreignID string) (string, int, string) {
	if key != "" {
		if _, known := s.secrets[key]; !known {
			return "", http.StatusNotFound, "no merchant with key " + key
		}
		if _, ok := s.Lookup(key, foreignID); !ok {
			return "", http.StatusNotFound, "merchant " + key + " has no invoice " + foreignID
		}
		return key, 0, ""
	}
	var found []string
	for _, m := range s.opts.Merchants {
		if _, ok := s.Lookup(m.Key, foreignID); ok {
			found = append(found, m.Key)
		}
	}
	switch len(found) {
	case 0:
		return "", http.StatusNotFound, "no invoice " + foreignID
	case 1:
		return found[0], 0, ""
	}
	return "", http.StatusConflict, "several merchants have invoice " + foreignID + "; add ?key=KEY"
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// controlChange reads a control's JSON body into body, makes the change and answers with the
// invoice as it is now: 400 for a bad body or a refused change, 409 for a status that may not
// follow.
func (s *Server) controlChange(w http.ResponseWriter, r *http.Request, key, id, want string, body any, change func() error) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err := json.Unmarshal(raw, body); err != nil {
		controlError(w, http.StatusBadRequest, want+": "+err.Error())
		return
	}
	if err := change(); err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, ErrBadTransition) {
			code = http.StatusConflict
		}
		controlError(w, code, err.Error())
		return
	}
	inv, _ := s.Lookup(key, id)
	controlJSON(w, http.StatusOK, inv)
}

// loopbackHost reports whether a Host header names this machine's loopback: 127.0.0.0/8, ::1
// or localhost, with or without a port.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

func controlJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"cannot encode the answer"}`)
	}
	writeRaw(w, status, append(b, '\n'))
}

func controlError(w http.ResponseWriter, status int, msg string) {
	controlJSON(w, status, map[string]string{"error": msg})
}
