invoice "order-1" {
  titel = "Order 1"  # ERROR: Unsupported argument
  currency = "eur"  # ERROR: Unknown currency
  amount = 10.005  # ERROR: Too many decimal places
  timer = "yes"  # ERROR: Incorrect attribute value type
  end_user_reference = "cust-1"
  url_success = "http://shop.example.com/ok"  # ERROR: Invalid url_success
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
  sender_type = "natural"
  sender_data {
    first_name = "Anna"
    last_name = 12
    date_of_birth = "1990-13-01"  # ERROR: Invalid date_of_birth
    email = ["x"]  # ERROR: Incorrect attribute value type
  }
}
