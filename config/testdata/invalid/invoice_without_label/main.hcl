invoice {  # ERROR: Missing label for invoice
  title = "Order 1"
}
