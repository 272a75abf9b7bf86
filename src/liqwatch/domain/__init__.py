"""Risk mathematics and alert rules.

Pure code: no Qt, no I/O, no clock reads. Prices and time come in as arguments, so every figure can be
reproduced from its inputs in a test.
"""
