# Spin forever: only the per-cell timeout stops this.
def double(x):
    return 2 * x


while True:
    pass
