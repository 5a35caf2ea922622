"""The outbox of every email (the email issue builds it)."""
