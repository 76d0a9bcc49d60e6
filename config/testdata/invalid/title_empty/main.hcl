invoice "order-1" {
  title = ""  # ERROR: Empty title
  currency = "EUR"
  amount = "10.50"
  timer = false
  end_user_reference = "cust-1"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
}
