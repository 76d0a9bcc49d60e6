package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/invoiceform/invoiceform/api"
	"github.com/invoiceform/invoiceform/emulator"
	"github.com/invoiceform/invoiceform/state/pgstate"
	"github.com/invoiceform/invoiceform/state/statetest"
)

// TestTwoServeProcessesPostgres: two real serve processes on one PostgreSQL workspace, as
// behind a load balancer, both given every callback (the API retries, the balancer spreads
// them) at once: every status change is recorded once, in order, and both answer 200.
func TestTwoServeProcessesPostgres(t *testing.T) {
	dir, connStr, ws := pgDir(t)
	ctx := context.Background()
	s, err := pgstate.Open(ctx, connStr, pgstate.Options{Workspace: ws})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		if err := s.Put(ctx, statetest.FullRecord(fmt.Sprintf("lb-%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	var addrs []string
	for range 2 {
		addr := freePort(t)
		serveProcess(t, dir, addr, envPGConnStr+"="+connStr)
		addrs = append(addrs, addr)
	}

	callback := func(id, status string) []byte {
		return []byte(`{"id":1,"foreign_id":"` + id + `","end_user_reference":"c","type":"invoice","crypto_address":{"id":1,"currency":"BTC","address":"a","tag":null},` +
			`"currency_sent":{"currency":"BTC","amount":"0.1","remaining_amount":"0.1"},"currency_received":{"currency":"EUR","amount":"10.00000000"},` +
			`"transactions":[],"fees":[],"error":null,"status":"` + status + `","fixed_at":1,"expires_at":2}`)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for i := range n {
		id := fmt.Sprintf("lb-%02d", i)
		for _, st := range []string{"pending", "processing", "confirmed"} {
			b := callback(id, st)
			for _, addr := range addrs { // the same callback to both receivers at once
				wg.Go(func() {
					req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/callbacks", bytes.NewReader(b))
					req.Header.Set("X-Processing-Key", emulator.DefaultKey)
					req.Header.Set("X-Processing-Signature", api.Sign(emulator.DefaultSecret, b))
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					mu.Lock()
					codes[resp.StatusCode]++
					mu.Unlock()
				})
			}
			wg.Wait() // the statuses of one invoice arrive in order, each twice at once
		}
	}
	if codes[http.StatusOK] != n*3*2 {
		t.Fatalf("answers %v, want %d times 200", codes, n*3*2)
	}

	s, err = pgstate.Open(ctx, connStr, pgstate.Options{Workspace: ws, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		r := snap.Records[fmt.Sprintf("lb-%02d", i)]
		var got []string
		for _, h := range r.History {
			got = append(got, h.Status)
		}
		if r.Status != "confirmed" || strings.Join(got, ",") != "pending,processing,confirmed" {
			t.Errorf("%s: status %s, history %v: each callback once, in order", r.ForeignID, r.Status, got)
		}
	}
}
