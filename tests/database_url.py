"""Prints the database the tests use: the PostgreSQL URL given if it answers, else SQLite.

Under CI=true PostgreSQL is required, so the URL is printed as given and a missing
server fails the run instead of quietly falling back.
"""

import os
import socket
import sys
from urllib.parse import urlparse

url = sys.argv[1]
if os.environ.get("CI") == "true":
    print(url)
    sys.exit(0)
parsed = urlparse(url)
try:
    socket.create_connection(
        (parsed.hostname or "127.0.0.1", parsed.port or 5432), timeout=1
    ).close()
except OSError:
    print("sqlite:///var/test.sqlite3")
else:
    print(url)
