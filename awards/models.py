"""Award categories, batches, nominations and certificates (the awards issue builds them)."""
