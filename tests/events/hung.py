"""A listener that says READY once and then never answers or reads."""
import sys
import time

sys.stdout.write("READY\n")
sys.stdout.flush()
while True:
    time.sleep(3600)
