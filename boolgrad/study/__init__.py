"""Studies built on the exact gradients (issue 10): crossing theory, overshoot simulations."""
