locals {
  shallow = jsondecode("{\"a\": [1, 2, {\"b\": 3}]}")
  deep = jsondecode(file("deep.json"))  # ERROR: Evaluation limit exceeded
}
