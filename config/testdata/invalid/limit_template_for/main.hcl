locals {
  page = "%{for a in range(1024)}%{for b in range(1024)}%{for c in range(1024)}0123456789abcdef%{endfor}%{endfor}%{endfor}"  # ERROR: Evaluation limit exceeded
}
