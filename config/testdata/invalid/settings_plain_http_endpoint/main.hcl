settings {
  endpoint = "http://app.cryptoprocessing.com/api/v2"  # ERROR: Invalid endpoint
}
