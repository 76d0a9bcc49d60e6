invoice "batch" {
  for_each = { a = 1, b = 2 }
  title = "Order 1"
  currency = "EUR"
  amount = "10.50"
  timer = false
  foreign_id = "batch-1"  # ERROR: foreign_id does not differ per instance
  end_user_reference = "cust-1"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
}
