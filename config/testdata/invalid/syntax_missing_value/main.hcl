invoice "order-1" {
  title =  # ERROR: Invalid expression
}
