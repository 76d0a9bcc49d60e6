invoice "order-1" {
  title "Order 1"  # ERROR: Invalid block definition
}
