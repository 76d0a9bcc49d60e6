locals {
  rows = file("rows.csv")  # ERROR: Invalid function argument
}
