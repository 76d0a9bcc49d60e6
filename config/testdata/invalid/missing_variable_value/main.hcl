variable "shop_url" {  # ERROR: No value for required variable
  type = string
}
invoice "order-1" {
  title = "Order 1"
  currency = "EUR"
  amount = "10.50"
  timer = false
  end_user_reference = "cust-1"
  url_success = "${var.shop_url}/ok"
  url_failed = "https://shop.example.com/failed"
  email_user = "buyer@example.com"
}
