package invoice_test

import (
	"fmt"
	"testing"

	"github.com/invoiceform/invoiceform/invoice"
)

// BenchmarkEncodeHash100k: the canonical body and its SHA-256 for 100,000 requests.
func BenchmarkEncodeHash100k(b *testing.B) {
	reqs := make([]invoice.Request, 100000)
	for i := range reqs {
		amt, err := invoice.ParseAmount(fmt.Sprintf("%d.%02d", 10+i%5000, i%100))
		if err != nil {
			b.Fatal(err)
		}
		reqs[i] = invoice.Request{
			Title: fmt.Sprintf("Subscription %d", i%12+1), Currency: "EUR", Amount: amt,
			ForeignID: fmt.Sprintf("bench-%07d", i), EndUserReference: fmt.Sprintf("cust-%d", i%50000),
			URLSuccess: "https://shop.example.com/payment/success", URLFailed: "https://shop.example.com/payment/failed",
			EmailUser: fmt.Sprintf("customer%d@example.com", i),
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for i := range reqs {
			if h := invoice.Hash(reqs[i].Encode()); len(h) != 64 {
				b.Fatal(h)
			}
		}
	}
}
