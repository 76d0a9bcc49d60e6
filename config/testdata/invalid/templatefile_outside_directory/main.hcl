locals {
  t = templatefile("../../invalid/file_missing/main.hcl", {})  # ERROR: Invalid function argument
}
