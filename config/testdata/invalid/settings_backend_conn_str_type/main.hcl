settings {
  backend "pg" {
    conn_str = ["postgres://db.example.com/invoices"]  # ERROR: Incorrect attribute value type
  }
}
