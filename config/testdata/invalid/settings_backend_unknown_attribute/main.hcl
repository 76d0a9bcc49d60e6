settings {
  backend "pg" {
    conn_str = "postgres://invoiceform@db.example.com/invoices"
    password = "hunter22"  # ERROR: Unsupported argument
  }
}
