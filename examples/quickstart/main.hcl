# A first look at invoiceform: three invoices, each a different kind.
# Run `invoiceform validate` here to check them.

variable "shop_url" {
  type        = string
  default     = "https://shop.example.com"
  description = "Where customers return after paying."
}

locals {
  url_success = "${var.shop_url}/payment/success"
  url_failed  = "${var.shop_url}/payment/failed"
}

# A plain invoice: the customer picks the cryptocurrency on the payment page.
invoice "order-1001" {
  title              = "Order 1001"
  description        = "Two tickets, concert on 12 December"
  currency           = "EUR"
  amount             = "106.75"
  timer              = false
  end_user_reference = "customer-5501"
  url_success        = local.url_success
  url_failed         = local.url_failed
  email_user         = "buyer@example.com"
}

# A fixed-currency invoice from a natural person: paid in BTC within 15 minutes, so the
# API needs the sender's details.
invoice "order-1002" {
  title              = "Order 1002"
  currency           = "EUR"
  sender_currency    = "BTC"
  amount             = 250
  timer              = true
  end_user_reference = "customer-5502"
  url_success        = local.url_success
  url_failed         = local.url_failed
  email_user         = "friedrich@example.org"
  sender_type        = "natural"
  sender_data {
    first_name    = "Friedrich"
    last_name     = "Müller"
    date_of_birth = "1995-08-17"
  }
}

# A company paying a wholesale order in instalments: partial payments are accepted until
# the invoice expires.
invoice "wholesale-2024-17" {
  title              = "Wholesale order 17"
  currency           = "USD"
  amount             = "4200.00"
  timer              = false
  type               = "good_until_expired"
  end_user_reference = "company-88"
  url_success        = local.url_success
  url_failed         = local.url_failed
  email_user         = "accounts@example.net"
  sender_type        = "legal"
  sender_data {
    legal_name              = "Example Trading GmbH"
    country_of_registration = "DEU"
  }
}
