invoice "order-1" {
  title = "Order 1"
  currency = "EUR"
  amount = "10.50"
  timer = false
  end_user_reference = "cust-19950817"  # ERROR: Personal data in end_user_reference
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
  sender_type = "natural"
  sender_data {
    first_name = "Friedrich"
    last_name = "Muller"
    date_of_birth = "1995-08-17"
  }
}
