// Command invoiceform declares CryptoProcessing invoices in HCL, plans them against a local
// state, and issues exactly the missing ones. This package only parses flags, wires the
// packages together and chooses exit codes; see README.md for the commands.
package main
