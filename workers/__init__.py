"""Dramatiq workers: broker set-up and actors for campaigns."""
