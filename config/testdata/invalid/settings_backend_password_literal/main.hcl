settings {
  backend "pg" {
    conn_str = "postgres://invoiceform:hunter22@db.example.com/invoices"  # WARNING: Password in the configuration
  }
}
