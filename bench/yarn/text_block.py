"""Writes the YARN benchmarks' text (bench/yarn/run.sh, bench/yarn/secure.sh): a 1 MiB block of
random words from a fixed seed, which the scripts repeat to the size they need, so that every
engine and every cluster counts the same words. Usage: text_block.py OUT_FILE"""
import random, sys

r = random.Random(42)
words = [''.join(r.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(r.randint(2, 9))) for _ in range(5000)]
out, size = [], 0
while size < (1 << 20):
    line = ' '.join(r.choice(words) for _ in range(r.randint(5, 15)))
    out.append(line); size += len(line) + 1
open(sys.argv[1], 'w').write('\n'.join(out)[:(1 << 20) - 1] + '\n')
