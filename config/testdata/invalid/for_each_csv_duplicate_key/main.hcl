invoice "batch" {
  for_each = { for r in csvdecode(file("rows.csv")) : r.id => r }  # ERROR: Duplicate key
  title = "Order ${each.key}"
  currency = "EUR"
  amount = each.value.amount
  timer = false
  foreign_id = "batch-${each.key}"
  end_user_reference = "cust-1"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
}
