settings {
  backend {  # ERROR: Missing type for backend
    workspace = "prod"
  }
}
