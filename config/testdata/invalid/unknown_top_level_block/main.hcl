resource "x" {  # ERROR: Unsupported block type
}
