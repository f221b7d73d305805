"""Conversation campaigns for your email list."""
