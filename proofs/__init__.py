"""Theorems about the Boolean-derivative gradient, proved with sympy (installed as ``boolgrad.proofs``).

Filled by the closed-form work (issue 3).
"""
