invoice "batch" {
  for_each = { a = "10.50", b = "10.505" }
  title = "Order 1"
  currency = "EUR"
  amount = each.value  # ERROR: Too many decimal places
  timer = "yes"  # ERROR: Incorrect attribute value type
  foreign_id = "batch-${each.key}"
  end_user_reference = upper(1, 2)  # ERROR: Too many function arguments
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
}
