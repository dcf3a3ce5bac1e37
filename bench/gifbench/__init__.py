"""Side-by-side benchmark of the GIF path on loopback (`make bench`); see cli.py for what it measures."""
