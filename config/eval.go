package config

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/invoiceform/invoiceform/invoice"
)

// evaluator evaluates one invoice instance.
type evaluator struct {
	l     *loader
	d     *decl
	ctx   *hcl.EvalContext
	inv   *Invoice
	diags hcl.Diagnostics
	set   fieldSet
	// bad holds the fields that are set but failed to evaluate or convert: their error is
	// reported, and the rules that depend on them skip them instead of adding to it.
	bad   fieldSet
	where string // the instance's address for for_each blocks, "" otherwise
	// inst is the for_each instance, nil for a block without for_each. Its evaluation
	// context (each.key, each.value) is made only when an expression needs HCL (see fast).
	inst *instance
	// row is each.value of a table's row, once made (eachValue).
	row     cty.Value
	rowMade bool
}

func (l *loader) evalInvoice(j job) (*Invoice, hcl.Diagnostics) {
	e := &evaluator{l: l, d: j.d, bad: j.d.failed}
	address := j.address()
	if j.inst >= 0 {
		e.inst = &j.d.instances[j.inst]
		e.where = address
	} else {
		e.ctx = l.ctx
	}
	e.inv = &Invoice{Address: address, DeclRange: j.d.block.DefRange, ranges: j.d.ranges}
	r := &e.inv.Request
	r.Title = e.str("title")
	r.Description = e.str("description")
	r.Currency = e.str("currency")
	r.SenderCurrency = e.str("sender_currency")
	r.Amount = e.amount("amount")
	r.Timer = e.boolean("timer")
	r.Type = e.str("type")
	r.ForeignID = e.str("foreign_id")
	if !e.set.has("foreign_id") && !e.bad.has("foreign_id") && !j.d.forEach {
		r.ForeignID = j.d.label
		e.set.add("foreign_id")
	}
	e.inv.ForeignID = r.ForeignID
	r.EndUserReference = e.str("end_user_reference")
	r.URLSuccess = e.str("url_success")
	r.URLFailed = e.str("url_failed")
	r.EmailUser = e.str("email_user")
	r.SenderType = e.str("sender_type")
	e.inv.Cancel = e.boolean(attrCancel)
	if j.d.senderData != nil {
		e.set.add("sender_data")
		r.SenderData = &invoice.SenderData{
			FirstName:             e.str("sender_data.first_name"),
			LastName:              e.str("sender_data.last_name"),
			DateOfBirth:           e.str("sender_data.date_of_birth"),
			Email:                 e.str("sender_data.email"),
			LegalName:             e.str("sender_data.legal_name"),
			CountryOfRegistration: e.str("sender_data.country_of_registration"),
		}
	}
	// The rules run even when some fields failed to evaluate: they skip those (e.bad), so
	// that one run reports every independent problem.
	e.validate()
	if !e.diags.HasErrors() {
		e.inv.Body = r.Encode()
		e.inv.Hash = invoice.Hash(e.inv.Body)
	}
	return e.inv, e.diags
}

// attr finds an attribute by field name ("sender_data.x" for sender data).
func (e *evaluator) attr(field string) *hcl.Attribute {
	if b := bit(field); b != 0 {
		return e.d.byField[bits.TrailingZeros32(uint32(b))]
	}
	if len(field) > len("sender_data.") && field[:len("sender_data.")] == "sender_data." {
		return e.d.sdAttrs[field[len("sender_data."):]]
	}
	return e.d.attrs[field]
}

// value evaluates a field; ok is false when it is absent, null or failed to evaluate.
func (e *evaluator) value(field string) (cty.Value, *hcl.Attribute, bool) {
	a := e.attr(field)
	if a == nil {
		return cty.NilVal, nil, false
	}
	if e.bad.has(field) {
		return cty.NilVal, a, false // failed once for every instance, in decode
	}
	if v, ok := e.d.fixed[field]; ok {
		// The same for every instance: evaluated (and any error reported) once, in decode.
		if v.IsNull() {
			return cty.NilVal, a, false
		}
		e.set.add(field)
		return v, a, true
	}
	v, ok := e.fast(a.Expr)
	var diags hcl.Diagnostics
	if !ok {
		v, diags = a.Expr.Value(e.context())
	}
	e.diags = append(e.diags, e.l.redactField(field, diags)...)
	if diags.HasErrors() {
		e.bad.add(field)
		return cty.NilVal, a, false
	}
	if v.IsNull() {
		return cty.NilVal, a, false
	}
	if !v.IsWhollyKnown() {
		e.errorf(field, a.Expr.Range(), "Value not known", "%s has no known value.", field)
		e.bad.add(field)
		return cty.NilVal, a, false
	}
	v, _ = v.Unmark()
	e.set.add(field)
	return v, a, true
}

func (e *evaluator) str(field string) string {
	if s, ok := e.fastStr(field); ok {
		return s
	}
	v, a, ok := e.value(field)
	if !ok {
		return ""
	}
	s, err := convertTo(v, cty.String)
	if le := asLimitError(err); le != nil {
		e.errorf(field, a.Expr.Range(), "Evaluation limit exceeded", "%s: %s%s", field, le.msg, limitAdvice)
		e.set.del(field)
		e.bad.add(field)
		return ""
	}
	if err != nil || s.IsNull() {
		e.errorf(field, a.Expr.Range(), "Incorrect attribute value type", "%s must be a string; it is %s.", field, v.Type().FriendlyName())
		e.set.del(field)
		e.bad.add(field)
		return ""
	}
	return s.AsString()
}

// fastStr is str for an attribute that fastString evaluates: what str gives for a known,
// unmarked, non-null string, without making the cty value. ok is false for anything else,
// which str evaluates as usual.
func (e *evaluator) fastStr(field string) (string, bool) {
	a := e.attr(field)
	if a == nil || e.bad.has(field) {
		return "", false
	}
	if _, fixed := e.d.fixed[field]; fixed {
		return "", false
	}
	s, ok := e.fastString(a.Expr)
	if !ok {
		return "", false
	}
	e.set.add(field)
	return s, true
}

func (e *evaluator) boolean(field string) bool {
	v, a, ok := e.value(field)
	if !ok {
		return false
	}
	b, err := convertTo(v, cty.Bool)
	if err != nil || b.IsNull() {
		e.errorf(field, a.Expr.Range(), "Incorrect attribute value type", "%s must be true or false; it is %s.", field, describe(v))
		e.set.del(field)
		e.bad.add(field)
		return false
	}
	return b.True()
}

func (e *evaluator) amount(field string) invoice.Amount {
	var amt invoice.Amount
	var err error
	if s, ok := e.fastStr(field); ok {
		amt, err = invoice.ParseAmount(s) // the usual amount, a string column
	} else {
		v, a, ok := e.value(field)
		if !ok {
			return invoice.Amount{}
		}
		switch v.Type() {
		case cty.Number:
			amt, err = invoice.AmountFromBigFloat(v.AsBigFloat())
		case cty.String:
			amt, err = invoice.ParseAmount(v.AsString())
		default:
			e.errorf(field, a.Expr.Range(), "Incorrect attribute value type", "amount must be a number or a decimal string such as \"106.75\"; it is %s.", v.Type().FriendlyName())
			e.set.del(field)
			e.bad.add(field)
			return invoice.Amount{}
		}
	}
	if err != nil {
		e.errorf(field, e.attr(field).Expr.Range(), "Invalid amount", "The amount %s.", err)
		e.set.del(field)
		e.bad.add(field)
		return invoice.Amount{}
	}
	return amt
}

// asLimitError is err's limitError, or nil; it allocates nothing when err is nil (str is
// called for every attribute of every invoice).
func asLimitError(err error) *limitError {
	if err == nil {
		return nil
	}
	var le *limitError
	if errors.As(err, &le) {
		return le
	}
	return nil
}

func describe(v cty.Value) string {
	if v.Type() == cty.String {
		return fmt.Sprintf("the string %q", v.AsString())
	}
	return v.Type().FriendlyName()
}

// instanceDiag marks a diagnostic about one for_each instance; detail is its text without the
// instance's name, so that the same mistake in many instances can be counted once.
type instanceDiag struct{ detail string }

// errorf adds an error about field at rng. The detail names the instance for for_each blocks.
func (e *evaluator) errorf(field string, rng hcl.Range, summary, format string, args ...any) {
	e.diag(hcl.DiagError, rng, summary, format, args...)
}

func (e *evaluator) diag(sev hcl.DiagnosticSeverity, rng hcl.Range, summary, format string, args ...any) {
	detail := fmt.Sprintf(format, args...)
	d := &hcl.Diagnostic{Severity: sev, Summary: summary, Detail: detail, Subject: rng.Ptr()}
	if e.where != "" && detail != "" {
		d.Detail = e.where + ": " + detail
		d.Extra = instanceDiag{detail}
	}
	e.diags = append(e.diags, d)
}

// fieldSet records which fields of an instance have a value: a bit per field name.
type fieldSet uint32

func fieldNames() []string {
	return append(append([]string{"sender_data", attrCancel}, requestFields...), senderDataFieldNames()...)
}

// bit is the field's bit (the order of fieldNames; a test holds the two together). The
// evaluator asks for a score of fields per instance: a switch finds them without hashing.
func bit(f string) fieldSet {
	switch f {
	case "sender_data":
		return 1 << 0
	case "cancel":
		return 1 << 1
	case "title":
		return 1 << 2
	case "description":
		return 1 << 3
	case "currency":
		return 1 << 4
	case "sender_currency":
		return 1 << 5
	case "amount":
		return 1 << 6
	case "timer":
		return 1 << 7
	case "type":
		return 1 << 8
	case "foreign_id":
		return 1 << 9
	case "end_user_reference":
		return 1 << 10
	case "url_success":
		return 1 << 11
	case "url_failed":
		return 1 << 12
	case "email_user":
		return 1 << 13
	case "sender_type":
		return 1 << 14
	case "sender_data.first_name":
		return 1 << 15
	case "sender_data.last_name":
		return 1 << 16
	case "sender_data.date_of_birth":
		return 1 << 17
	case "sender_data.email":
		return 1 << 18
	case "sender_data.legal_name":
		return 1 << 19
	case "sender_data.country_of_registration":
		return 1 << 20
	}
	return 0
}

func senderDataFieldNames() []string {
	out := make([]string, len(senderDataFields))
	for i, f := range senderDataFields {
		out[i] = "sender_data." + f
	}
	return out
}

func (s fieldSet) has(f string) bool { return s&bit(f) != 0 }
func (s *fieldSet) add(f string)     { *s |= bit(f) }
func (s *fieldSet) del(f string)     { *s &^= bit(f) }
