invoice "order-1" {  # ERROR: Missing required attribute
  title = "Order 1"
  currency = "EUR"
  amount = "10.50"
  timer = false
  end_user_reference = "cust-1"
  url_success = "https://shop.example.com/ok"
  email_user = "buyer@example.com"
}
