package api

// Hooks for the black-box tests in package api_test (fuzzing the decoders directly).
var (
	DecodeInvoice    = decodeInvoice
	DecodeAccounts   = decodeAccounts
	DecodeCurrencies = decodeCurrencies
	Classify         = classify
)
