invoice "order-1" {
  title = "Order 1"
  currency = "EUR"
  sender_currency = "ETH"  # ERROR: Currency not in the account
  amount = "10.50"
  timer = false
  end_user_reference = "cust-1"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
}
