"""Marks the function's source as the package `dogxray._payload` in dogxray's wheel.

Not part of the deployment zip: the handler modules sit at the zip's root.
"""
