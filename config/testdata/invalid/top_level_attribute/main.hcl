endpoint = "https://app.cryptoprocessing.com/api/v2"  # ERROR: Unsupported argument
