# rows.csv starts with a UTF-8 byte-order mark, as Excel's "CSV UTF-8" writes it.
invoice "batch" {
  for_each = { for r in csvdecode(file("rows.csv")) : r.id => r }
  title = "Order ${each.key}"
  currency = "EUR"
  amount = each.value.amount
  timer = false
  foreign_id = "batch-${each.key}"
  end_user_reference = "cust-${each.key}"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
}
