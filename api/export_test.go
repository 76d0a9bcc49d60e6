package api

// Hooks for the black-box tests in package api_test (fuzzing the decoders directly).
var (
	DecodeInvoice = decodeInvoice
	Classify      = classify
)
