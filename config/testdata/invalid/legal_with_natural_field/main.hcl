invoice "order-1" {
  title = "Order 1"
  currency = "EUR"
  amount = "10.50"
  timer = false
  end_user_reference = "cust-1"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
  sender_type = "legal"
  sender_data {
    legal_name = "Example GmbH"
    country_of_registration = "DEU"
    first_name = "Anna"  # ERROR: Attribute not for this sender_type
  }
}
