"""Inbound mail: keep it raw, then match and file what the understanding library says it is.

``store`` keeps raw bytes once; ``process`` claims, understands, matches (``match``) and
files (``filing``, ``followups``) a stored message; ``triage`` holds the decisions a user
makes about what could not be filed alone. Understanding itself is the pure library in
``campaigns.mail.inbound``.
"""
