invoice "order-1" {
  title = "Order 1"  # café ERROR: Invalid character encoding
}
