invoice "order-1" {
  title = "Order 1"
  currency = "BTC"
  amount = 0.000000001  # ERROR: Too many decimal places
  timer = false
  end_user_reference = "cust-1"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
}
