# A monthly batch: one invoice per row of invoices.csv (1,000 rows).
# Each row's id makes the foreign_id, so re-running never issues a row twice.

variable "shop_url" {
  type    = string
  default = "https://shop.example.com"
}

locals {
  rows = { for r in csvdecode(file("invoices.csv")) : r.id => r }
}

invoice "batch" {
  for_each = local.rows

  foreign_id         = "batch-${each.value.period}-${each.key}"
  title              = "Subscription ${each.value.period}"
  currency           = each.value.currency
  amount             = each.value.amount
  timer              = false
  end_user_reference = each.value.customer
  url_success        = "${var.shop_url}/payment/success"
  url_failed         = "${var.shop_url}/payment/failed"
  email_user         = each.value.email
}
