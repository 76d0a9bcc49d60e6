invoice "order-1" {
  title = "Order 1"
  currency = "JPY"
  amount = "1500.5"  # ERROR: Too many decimal places
  timer = false
  end_user_reference = "cust-1"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
}

# BHD has three places: this one is valid.
invoice "order-2" {
  title = "Order 2"
  currency = "BHD"
  amount = "12.125"
  timer = false
  end_user_reference = "cust-2"
  url_success = "https://shop.example.com/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
}
