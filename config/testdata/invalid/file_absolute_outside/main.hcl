locals {
  secret = file("/etc/hostname")  # ERROR: Invalid function argument
}
