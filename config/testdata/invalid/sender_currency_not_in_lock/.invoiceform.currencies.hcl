# This file is maintained by "invoiceform currencies"; do not edit it by hand.

endpoint = "https://app.sandbox.cryptoprocessing.com/api/v2"

currency "BTC" {
  type      = "crypto"
  precision = 6
}

currency "EUR" {
  type      = "fiat"
  precision = 8
}

currency "JPY" {
  type      = "fiat"
  precision = 8
}
