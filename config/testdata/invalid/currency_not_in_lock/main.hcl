# GBP is an ISO 4217 code, but the account's lock file does not list it.
invoice "order-1" {
  title = "Order 1"
  currency = "GBP"  # ERROR: Currency not in the account
  amount = "10.50"
  timer = false
  end_user_reference = "cust-1"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
}

# EUR is in the lock at precision 8, but a fiat amount keeps its minor unit: 2 places.
invoice "order-2" {
  title = "Order 2"
  currency = "EUR"
  amount = "10.505"  # ERROR: Too many decimal places
  timer = false
  end_user_reference = "cust-2"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
}
