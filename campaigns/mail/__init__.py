"""Outgoing mail: message building, rendering and the backends that deliver it."""
