"""Benchmark: the timing channel between two sandboxes graded at the same moment (README, Sandbox).

Not a test: it measures and prints a table. Shared CPUs and caches cannot be closed: a sandbox
that runs slows the others down. Two student sandboxes (as two submissions graded at once) run a
student's function each, at the same moment: the sender spends each time slot busy (bit 1) or
asleep (bit 0); the receiver counts how far a loop of its own gets in each slot, and reads a 1
where it got less than in its median slot. Both align their slots on the
clock they share (the sandbox's start time is passed in), the most favourable case for an attacker:
no synchronisation to pay for. For each slot length it prints the raw bit rate, the bit error
rate, and the capacity of that channel (a binary symmetric channel: ``(1 - H(error)) / slot``).

    python benchmarks/covert_timing.py [--bits 200] [--slots 0.002,0.005,0.01,0.02,0.05]

Run it as root with bubblewrap (the real sandboxes); ``taskset -c 0 python benchmarks/...`` puts
both sandboxes on one core (a one-core host, or two grading processes that the scheduler puts on
the same core), where the channel is at its best.
"""

from __future__ import annotations

import argparse
import math
import random
import threading
import time
from typing import Any

from catkit.grading import remote
from catkit.grading.isolation import cgroups, handle, launch
from catkit.grading.job import Settings
from catkit.grading.limits import Limits

PREAMBLE = "import numpy as np\n"

SENDER = """
import time
def f(bits, start, slot):
    for index, bit in enumerate(bits):
        end = start + (index + 1) * slot
        if bit:
            while time.time() < end:
                pass
        else:
            pause = end - time.time()
            if pause > 0:
                time.sleep(pause)
    return len(bits)
"""

RECEIVER = """
import time
def f(count, start, slot):
    progress = []
    while time.time() < start:
        pass
    for index in range(count):
        end, loops = start + (index + 1) * slot, 0
        while time.time() < end:
            loops += 1
        progress.append(loops)
    return progress
"""


def entropy(p: float) -> float:
    return 0.0 if p <= 0 or p >= 1 else -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def session(settings: Settings, students: remote.StudentSandbox, source: str) -> remote.RemoteFunction:
    references = handle.reference_sandbox(settings, PREAMBLE, {})
    cell = remote.load(students, references, settings, PREAMBLE, source, "f", (),
                       time.monotonic() + settings.limits.cell_time_limit, "over time")
    return remote.RemoteFunction(cell, "f")


def measure(send: Any, receive: Any, bits: list[int], slot: float) -> tuple[float, int]:
    start = time.time() + 0.5  # both sandboxes ready and waiting
    results: list[Any] = []
    sender = threading.Thread(target=lambda: results.append(send(bits, start, slot)))
    sender.start()
    progress = receive(len(bits), start, slot)
    sender.join()
    threshold = sorted(progress)[len(progress) // 2]  # the median: as many 1s as 0s, about
    decoded = [int(loops < threshold) for loops in progress]
    errors = sum(a != b for a, b in zip(decoded, bits, strict=True))
    return errors / len(bits), errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bits", type=int, default=200)
    parser.add_argument("--slots", default="0.002,0.005,0.01,0.02,0.05")
    options = parser.parse_args()
    mode = launch.resolve_mode("auto")
    settings = Settings(mode=mode, cgroups=cgroups.available() is None,
                        limits=Limits(timeout=120, cell_time_limit=600))
    print(f"sandbox mode: {mode}, control groups: {settings.cgroups}, "
          f"cores: {len(__import__('os').sched_getaffinity(0))}")
    pair = [remote.StudentSandbox(settings) for _ in range(2)]
    try:
        send, receive = session(settings, pair[0], SENDER), session(settings, pair[1], RECEIVER)
        print(f"{'slot (ms)':>10} {'raw bit/s':>10} {'errors':>8} {'error rate':>11} {'capacity bit/s':>15}")
        rng = random.Random(19)
        for slot in [float(value) for value in options.slots.split(",")]:
            bits = [rng.randrange(2) for _ in range(options.bits)]
            rate, errors = measure(send, receive, bits, slot)
            capacity = (1 - entropy(rate)) / slot
            print(f"{slot * 1000:>10.0f} {1 / slot:>10.0f} {errors:>8} {rate:>11.3f} {capacity:>15.1f}")
    finally:
        for students in pair:
            students.close()
        handle.close_all()


if __name__ == "__main__":
    main()
