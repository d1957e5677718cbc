# Print without end: the output travels out of the sandbox and piles up in the grader until the timeout.
# (Paced at about 20 MB a second, so the grader can still drain the channel in time on a loaded test
# machine; an unpaced flood makes nbgrader give up on the notebook when the output channel stays busy
# past its timeout, which spm grade then reports as a notebook it could not grade.)
import time


def double(x):
    return 2 * x


line = "spam " * 20_000
while True:
    print(line, flush=True)
    time.sleep(0.005)
