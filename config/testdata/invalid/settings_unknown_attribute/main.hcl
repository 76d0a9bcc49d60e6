settings {
  api_key = "k"  # ERROR: Unsupported argument
}
