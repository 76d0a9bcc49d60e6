# The lock gives BTC 6 places: 7 are refused, though invoiceform's own table allows 8.
invoice "order-1" {
  title = "Order 1"
  currency = "BTC"
  amount = "0.0000001"  # ERROR: Too many decimal places
  timer = false
  end_user_reference = "cust-1"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
}

invoice "order-2" {
  title = "Order 2"
  currency = "JPY"
  amount = "1500.5"  # ERROR: Too many decimal places
  timer = false
  end_user_reference = "cust-2"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
}
