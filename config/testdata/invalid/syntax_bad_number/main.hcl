invoice "order-1" {
  title = "Order 1"
  amount = 10..5  # ERROR: Invalid
}
