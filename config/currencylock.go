package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/invoiceform/invoiceform/invoice"
)

// CurrencyLockFile is the currencies lock file: the currencies of the account, as
// `invoiceform currencies` read them from /currencies/list, kept beside the configuration and
// committed with it, as Terraform users commit .terraform.lock.hcl. Its name starts with a dot,
// so the loader, which reads only the *.hcl files whose names do not, never takes it for
// configuration.
const CurrencyLockFile = ".invoiceform.currencies.hcl"

// maxLockFileSize bounds the lock file: an account lists a few dozen currencies.
const maxLockFileSize = 1 << 20

// CurrencyLock is a read currencies lock file.
type CurrencyLock struct {
	// File is the path the lock was read from (as diagnostics name it).
	File string
	// Endpoint is the API the currencies were read from.
	Endpoint string
	// Currencies are sorted by Code.
	Currencies []LockedCurrency
}

// LockedCurrency is one currency of the account.
type LockedCurrency struct {
	Code string
	// Type is the API's type: "crypto" or "fiat".
	Type string
	// Precision is the decimal places the API reports for the currency.
	Precision int32
}

// Lookup returns the locked currency with exactly this code.
func (l *CurrencyLock) Lookup(code string) (LockedCurrency, bool) {
	i, ok := slices.BinarySearchFunc(l.Currencies, code, func(c LockedCurrency, code string) int { return strings.Compare(c.Code, code) })
	if !ok {
		return LockedCurrency{}, false
	}
	return l.Currencies[i], true
}

// Codes lists the locked codes, comma-separated.
func (l *CurrencyLock) Codes() string {
	codes := make([]string, len(l.Currencies))
	for i, c := range l.Currencies {
		codes[i] = c.Code
	}
	return strings.Join(codes, ", ")
}

// Currency is the currency as validation uses it: the kind from the lock's type (else from
// invoiceform's table), the places the lock's precision, but for an ISO 4217 fiat code never
// more than its minor unit (a sandbox reports precision 8 for EUR and USD; a cent is still
// the smallest amount a person pays).
func (c LockedCurrency) Currency() invoice.Currency {
	out := invoice.Currency{Code: c.Code, Name: c.Code, Precision: c.Precision}
	known, ok := invoice.LookupCurrency(c.Code)
	if ok {
		out.Name, out.Kind = known.Name, known.Kind
	}
	switch c.Type {
	case "crypto":
		out.Kind = invoice.Crypto
	case "fiat":
		out.Kind = invoice.Fiat
	}
	if ok && known.Kind == invoice.Fiat && known.Precision < out.Precision {
		out.Precision = known.Precision
	}
	return out
}

var lockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "endpoint"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "currency", LabelNames: []string{"code"}}},
}

var lockCurrencySchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "type", Required: true},
	{Name: "precision", Required: true},
}}

// ReadCurrencyLock reads the lock file of dir. No file gives nil and no diagnostics; file is
// the parsed file, for showing snippets (nil when it could not be read).
func ReadCurrencyLock(dir string) (lock *CurrencyLock, file *hcl.File, diags hcl.Diagnostics) {
	name := filepath.Join(dir, CurrencyLockFile)
	// Read as a configuration file is: a regular file inside the directory, never through a
	// link leading out of it (a pull request could point it at /proc/self/environ, whose
	// parse error would quote the environment).
	fr, err := newFileReader(dir)
	if err != nil {
		return nil, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the configuration directory", Detail: err.Error()}}
	}
	src, err := readConfigFile(fr.dir, name)
	if err == nil && int64(len(src)) > maxLockFileSize {
		err = fmt.Errorf("%s: %w: more than %d bytes", name, ErrTooLarge, int64(maxLockFileSize))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the currencies lock file",
			Detail: fmt.Sprintf("%s. Write it again with \"invoiceform currencies\", or delete it to check against invoiceform's own list of currencies.", err)}}
	}
	return ParseCurrencyLock(name, src)
}

// ParseCurrencyLock reads the text of a lock file; name is for diagnostics.
func ParseCurrencyLock(name string, src []byte) (lock *CurrencyLock, file *hcl.File, diags hcl.Diagnostics) {
	if d := checkUTF8(name, src); d != nil {
		return nil, sourceOnly(src), hcl.Diagnostics{d}
	}
	f, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, f, diags
	}
	content, diags := f.Body.Content(lockSchema)
	lock = &CurrencyLock{File: name}
	if a, ok := content.Attributes["endpoint"]; ok {
		diags = append(diags, gohcl.DecodeExpression(a.Expr, nil, &lock.Endpoint)...)
	}
	seen := map[string]hcl.Range{}
	for _, b := range content.Blocks {
		code := b.Labels[0]
		if prev, dup := seen[code]; dup {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate currency in the lock file",
				Detail: fmt.Sprintf("%s is listed twice; the first is at %s. Write the file again with \"invoiceform currencies\".", code, prev), Subject: b.DefRange.Ptr()})
			continue
		}
		seen[code] = b.DefRange
		bc, d := b.Body.Content(lockCurrencySchema)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		c := LockedCurrency{Code: code}
		var prec int64
		d = append(gohcl.DecodeExpression(bc.Attributes["type"].Expr, nil, &c.Type),
			gohcl.DecodeExpression(bc.Attributes["precision"].Expr, nil, &prec)...)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		if prec < 0 || prec > 18 {
			r := bc.Attributes["precision"].Expr.Range()
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid precision in the lock file",
				Detail: fmt.Sprintf("%s has precision %d; it must be between 0 and 18 decimal places.", code, prec), Subject: r.Ptr()})
			continue
		}
		c.Precision = int32(prec)
		lock.Currencies = append(lock.Currencies, c)
	}
	slices.SortFunc(lock.Currencies, func(a, b LockedCurrency) int { return strings.Compare(a.Code, b.Code) })
	if diags.HasErrors() {
		return nil, f, diags
	}
	return lock, f, diags
}

// EncodeCurrencyLock writes a lock file: a header saying what it is, the endpoint, and one
// block per currency, sorted by code, so that the same account always gives the same bytes.
func EncodeCurrencyLock(endpoint string, currencies []LockedCurrency) []byte {
	cs := slices.Clone(currencies)
	slices.SortFunc(cs, func(a, b LockedCurrency) int { return strings.Compare(a.Code, b.Code) })
	cs = slices.CompactFunc(cs, func(a, b LockedCurrency) bool { return a.Code == b.Code })
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	body.SetAttributeValue("endpoint", cty.StringVal(endpoint))
	for _, c := range cs {
		body.AppendNewline()
		b := body.AppendNewBlock("currency", []string{c.Code}).Body()
		b.SetAttributeValue("type", cty.StringVal(c.Type))
		b.SetAttributeValue("precision", cty.NumberIntVal(int64(c.Precision)))
	}
	var out bytes.Buffer
	out.WriteString(`# This file is maintained by "invoiceform currencies"; do not edit it by hand.
# It lists the currencies of the account, as its /currencies/list answered. Commit it beside
# the configuration: validate and plan check every invoice's currency, sender_currency and
# amount against it. Run "invoiceform currencies" again when the account's currencies change.

`)
	out.Write(hclwrite.Format(f.Bytes()))
	return out.Bytes()
}

// WriteCurrencyLock writes the lock file of dir atomically (a temporary file renamed over it).
func WriteCurrencyLock(dir string, data []byte) (string, error) {
	name := filepath.Join(dir, CurrencyLockFile)
	tmp, err := os.CreateTemp(dir, CurrencyLockFile+".*.tmp")
	if err != nil {
		return name, err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return name, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return name, err
	}
	if err := tmp.Close(); err != nil {
		return name, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return name, err
	}
	return name, os.Rename(tmp.Name(), name)
}

// readCurrencyLock reads the lock file of the directory being loaded into the configuration;
// the validation of every invoice's currencies then follows it.
func (l *loader) readCurrencyLock(dir string) {
	if l.opts.SettingsOnly {
		return
	}
	lock, f, diags := ReadCurrencyLock(dir)
	if f != nil {
		l.cfg.Files[filepath.Join(dir, CurrencyLockFile)] = f
	}
	l.diags = append(l.diags, diags...)
	l.cfg.CurrencyLock = lock
}
