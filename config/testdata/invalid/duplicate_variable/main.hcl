variable "x" {
  default = "a"
}
variable "x" {  # ERROR: Duplicate variable
  default = "b"
}
