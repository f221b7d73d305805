"""Domain verbs as plain functions: they flush, never commit, and raise errors.*."""
