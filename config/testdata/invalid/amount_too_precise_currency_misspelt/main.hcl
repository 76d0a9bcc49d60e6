# The currency is misspelt, and the amount has more places than the currency it likely means
# (JPY): both are reported in one run.
invoice "order-1" {
  title = "Order 1"
  currency = "jpy"  # ERROR: Unknown currency
  amount = "1500.5"  # ERROR: Too many decimal places
  timer = false
  end_user_reference = "cust-1"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
}

# "EURO" is only close to a code: only the currency is reported.
invoice "order-2" {
  title = "Order 2"
  currency = "EURO"  # ERROR: Unknown currency
  amount = "1500.505"
  timer = false
  end_user_reference = "cust-2"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
}
