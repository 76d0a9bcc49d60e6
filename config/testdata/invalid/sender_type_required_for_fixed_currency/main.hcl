invoice "order-1" {  # ERROR: Missing sender_type
  title = "Order 1"
  currency = "EUR"
  sender_currency = "BTC"
  amount = "10.50"
  timer = true
  end_user_reference = "cust-1"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
}
