package manifestgen

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
)

var currencies = []struct{ code, amount string }{
	{"EUR", "%d.%02d"}, {"USD", "%d.%02d"}, {"EUR", "%d.%02d"}, {"BTC", "0.%08d"}, {"USDTT", "%d.%02d"},
}

func amount(i int) (currency, amt string) {
	c := currencies[i%len(currencies)]
	if c.code == "BTC" {
		return c.code, fmt.Sprintf(c.amount, 100000+i%9000000)
	}
	return c.code, fmt.Sprintf(c.amount, 10+i%5000, i%100)
}

// CSV writes dir/main.hcl with one invoice block whose for_each reads n rows of
// dir/invoices.csv.
func CSV(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "invoices.csv"))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "id,title,currency,amount,customer,email")
	for i := 0; i < n; i++ {
		cur, amt := amount(i)
		fmt.Fprintf(w, "%07d,Subscription %d,%s,%s,cust-%d,customer%d@example.com\n", i, i%12+1, cur, amt, i%50000, i)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(`variable "shop_url" {
  type    = string
  default = "https://shop.example.com"
}

locals {
  rows = { for r in csvdecode(file("invoices.csv")) : r.id => r }
}

invoice "bench" {
  for_each = local.rows

  foreign_id         = "bench-${each.key}"
  title              = each.value.title
  currency           = each.value.currency
  amount             = each.value.amount
  timer              = false
  end_user_reference = each.value.customer
  url_success        = "${var.shop_url}/payment/success"
  url_failed         = "${var.shop_url}/payment/failed"
  email_user         = each.value.email
}
`), 0o644)
}

// Literal writes n literal invoice blocks spread evenly over files files in dir.
func Literal(dir string, n, files int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	per := (n + files - 1) / files
	for fi, i := 0, 0; fi < files && i < n; fi++ {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("invoices_%03d.hcl", fi)))
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		for end := i + per; i < end && i < n; i++ {
			cur, amt := amount(i)
			fmt.Fprintf(w, `invoice "lit-%07d" {
  title              = "Subscription %d"
  currency           = "%s"
  amount             = "%s"
  timer              = false
  end_user_reference = "cust-%d"
  url_success        = "https://shop.example.com/payment/success"
  url_failed         = "https://shop.example.com/payment/failed"
  email_user         = "customer%d@example.com"
}

`, i, i%12+1, cur, amt, i%50000, i)
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}
