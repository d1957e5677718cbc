# Phone home: the grader's own loopback (a port the test listens on) and the internet.
import socket

reached = []
for host, port in [("127.0.0.1", int("__PORT__")), ("1.1.1.1", 443), ("example.com", 80)]:
    try:
        socket.create_connection((host, port), timeout=2).close()
        reached.append(host)
    except OSError as exc:
        print("no connection to", host, type(exc).__name__)
# Full marks only for a rep whose code could not reach anything.
answer = 4242 if not reached else 0
