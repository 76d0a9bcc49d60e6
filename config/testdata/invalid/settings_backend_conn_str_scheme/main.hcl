settings {
  backend "pg" {
    conn_str = "mysql://invoiceform@db.example.com/invoices"  # ERROR: Invalid conn_str
  }
}
