settings {
  backend "pg" {
    workspace = "prod"
  }
  backend "pg" {  # ERROR: Duplicate backend block
    workspace = "staging"
  }
}
