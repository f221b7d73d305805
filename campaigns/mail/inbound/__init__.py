"""Understanding inbound mail: parse, classify (human, auto-reply, bounce, unsubscribe,
complaint), extract the new text and sanitise HTML. Pure: no Flask, database or network.
"""
