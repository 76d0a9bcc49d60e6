locals {
  secret = file("../../../../go.mod")  # ERROR: Invalid function argument
}
