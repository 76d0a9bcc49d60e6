settings {
  endpoint = "https://app.cryptoprocessing.com/api/v2"
}
settings {  # ERROR: Duplicate settings block
}
