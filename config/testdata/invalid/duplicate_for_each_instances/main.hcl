invoice "batch" {
  for_each = { a = "x", b = "x" }
  title = "Order 1"
  currency = "EUR"
  amount = "10.50"
  timer = false
  foreign_id = "batch-${each.value}"  # ERROR: Duplicate foreign_id
  end_user_reference = "cust-1"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
}
