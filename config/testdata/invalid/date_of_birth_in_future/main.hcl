invoice "order-1" {
  title = "Order 1"
  currency = "EUR"
  amount = "10.50"
  timer = false
  end_user_reference = "cust-1"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
  sender_type = "natural"
  sender_data {
    first_name = "Anna"
    last_name = "Smith"
    date_of_birth = "2999-01-01"  # ERROR: Invalid date_of_birth
  }
}
