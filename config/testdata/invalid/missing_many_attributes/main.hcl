invoice "order-1" {  # ERROR: Missing required attributes
  title = "Order 1"
  sender_type = "legal"
  sender_data {  # ERROR: Missing sender_data attributes
  }
}
