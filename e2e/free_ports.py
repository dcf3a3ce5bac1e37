"""N distinct free loopback ports (bound together so they differ, then released), for
e2e/apiserver.sh and e2e/platform.sh: N."""
import socket
import sys

socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
