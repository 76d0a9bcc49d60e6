locals {
  cube = setproduct(range(1024), range(1024), range(1024))  # ERROR: Evaluation limit exceeded
}
