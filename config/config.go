package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/invoiceform/invoiceform/invoice"
)

// DefaultEndpoint is the production API, used when neither settings nor INVOICEFORM_ENDPOINT
// name another.
const DefaultEndpoint = "https://app.cryptoprocessing.com/api/v2"

// Config is a loaded and validated configuration directory.
type Config struct {
	// Dir is the directory that was loaded, as given to Load.
	Dir string
	// Files holds every parsed file by the name used in diagnostics, for rendering snippets.
	// A file of nothing but invoice blocks that raised no diagnostic keeps only its Bytes
	// (its syntax tree is let go of once evaluated: see load.go).
	Files map[string]*hcl.File
	// Settings is the settings block, or its defaults.
	Settings Settings
	// Variables are the declared variables with their final values.
	Variables map[string]*Variable
	// CurrencyLock is the currencies lock file of the directory (CurrencyLockFile), or nil
	// when there is none: the currencies of the account, which validation checks against.
	CurrencyLock *CurrencyLock
	// Invoices are the declared invoices, one per for_each instance, in declaration order:
	// files by name, blocks by position, instances by key.
	Invoices []*Invoice
}

// Settings holds the settings block.
type Settings struct {
	// Endpoint is the API base URL from the settings block, or "" when not set there.
	Endpoint      string
	EndpointRange hcl.Range
	// Backend is the backend block, or nil when the state is the local file.
	Backend *Backend
	// DeclRange is the block's header, or an empty range when there is no settings block.
	DeclRange hcl.Range
}

// Backend is `backend "pg" { conn_str = ..., workspace = ... }` inside the settings block:
// the state is kept in PostgreSQL instead of the local file.
type Backend struct {
	// Type is the block's label; "pg" is the only backend.
	Type string
	// ConnStr is the PostgreSQL connection string, or "" when not set (the environment
	// variable INVOICEFORM_PG_CONN_STR must then give it, and wins over it when both do).
	ConnStr      string
	ConnStrRange hcl.Range
	// Workspace names the state inside the database; DefaultWorkspace when not set.
	Workspace      string
	WorkspaceRange hcl.Range
	DeclRange      hcl.Range
}

// DefaultWorkspace is the workspace of a backend block that names none.
const DefaultWorkspace = "default"

// Variable is a declared input variable.
type Variable struct {
	Name        string
	Description string
	Type        cty.Type
	Sensitive   bool
	Default     cty.Value
	Value       cty.Value
	// Source says where the value came from: "default", "-var", "-var-file FILE" or
	// "environment".
	Source    string
	DeclRange hcl.Range
}

// Invoice is one invoice to be issued: a block, or one instance of a block with for_each.
type Invoice struct {
	// Address names the declaration: `invoice.LABEL` or `invoice.LABEL["KEY"]`.
	Address string
	// ForeignID is the merchant's unique id: the block label unless foreign_id is set.
	ForeignID string
	// Cancel asks for the issued invoice to be cancelled.
	Cancel bool
	// Request holds the normalised create-invoice fields.
	Request invoice.Request
	// Body is Request.Encode(): the exact bytes apply signs and sends.
	Body []byte
	// Hash is invoice.Hash(Body), which plan compares with the state.
	Hash string
	// DeclRange is the block header (`invoice "LABEL" {`), where plan and apply point.
	DeclRange hcl.Range
	// ranges are the source ranges of the block's attributes (see AttrRange), shared by the
	// instances of a for_each block.
	ranges map[string]hcl.Range
	// spans hold the same for an invoice taken from the evaluation cache, in place of
	// ranges: a slice of a whole file's, without a map per invoice (cacheentry.go).
	spans []fieldSpan
}

// AttrRange is where field is set in the invoice's block: the value of the attribute (a
// request field in the API's name, such as "amount", or "sender_data.first_name"; for
// "sender_data" the block's header), or the block header when the field is not set there.
func (inv *Invoice) AttrRange(field string) hcl.Range {
	if r, ok := inv.ranges[field]; ok {
		return r
	}
	if r, ok := spanOf(inv.spans, field, inv.DeclRange.Filename); ok {
		return r
	}
	return inv.DeclRange
}
