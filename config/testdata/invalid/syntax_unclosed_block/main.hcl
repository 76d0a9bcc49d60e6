invoice "order-1" {  # ERROR: Unclosed configuration block
  title = "Order 1"
