settings {
  backend "s3" {  # ERROR: Unsupported backend
    workspace = "prod"
  }
}
