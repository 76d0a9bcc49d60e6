package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/invoiceform/invoiceform/internal/manifestgen"
)

func main() {
	form := flag.String("form", "csv", "csv (for_each over a CSV file) or literal (invoice blocks)")
	n := flag.Int("n", 100000, "number of invoices")
	files := flag.Int("files", 100, "number of files for -form=literal")
	flag.Parse()
	if flag.NArg() != 1 || *n < 1 || *files < 1 {
		fmt.Fprintln(os.Stderr, "usage: genmanifest [-form=csv|literal] [-n=N] [-files=F] DIR")
		os.Exit(1)
	}
	var err error
	switch *form {
	case "csv":
		err = manifestgen.CSV(flag.Arg(0), *n)
	case "literal":
		err = manifestgen.Literal(flag.Arg(0), *n, *files)
	default:
		err = fmt.Errorf("unknown -form %q: use csv or literal", *form)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genmanifest:", err)
		os.Exit(1)
	}
}
