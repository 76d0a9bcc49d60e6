invoice "order-1" {
  title = "Order 1"
  currency = "EUR"
  amount = "10.50"
  timer = false
  end_user_reference = "acme-corp"  # ERROR: Personal data in end_user_reference
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
  sender_type = "legal"
  sender_data {
    legal_name = "Acme"
    country_of_registration = "DEU"
  }
}
