locals {
  a_ok = [for i in range(10) : i * 2]
  cube = [for a in range(1024) : [for b in range(1024) : [for c in range(1024) : c]]]  # ERROR: Evaluation limit exceeded
}
