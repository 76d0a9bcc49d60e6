settings {
  backend "pg" {
    workspace = "prod/eu"  # ERROR: Invalid workspace
  }
}
