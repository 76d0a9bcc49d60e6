invoice "order-1" {  # ERROR: Missing required attribute
  title = "Order 1"
  currency = "EUR"
  timer = false
  end_user_reference = "cust-1"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
}
