variable "x" {
  type = strng  # ERROR: Invalid type specification
  default = "a"
}
